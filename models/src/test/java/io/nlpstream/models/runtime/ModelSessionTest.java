package io.nlpstream.models.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Sessions over the small fixture heads graph (random weights, real ONNX Runtime). */
class ModelSessionTest {

  private static final String HEADS = "nlpstream/catalog/test-minilm-heads/heads.onnx";
  private static final Set<String> INPUTS = Set.of("last_hidden_state", "attention_mask");
  private static final Set<String> OUTPUTS = Set.of("sentiment_logits", "class_logits", "entity_logits");
  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));

  static byte[] resource(String name) throws IOException {
    try (InputStream in = ModelSessionTest.class.getClassLoader().getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void runsAndReportsShapes() throws Exception {
    try (ModelSession session = ModelSession.open(RUNTIME, "heads", "heads.onnx", resource(HEADS), INPUTS, OUTPUTS)) {
      assertThat(session.shape("last_hidden_state")).containsExactly(-1, -1, 384);
      assertThat(session.shape("entity_logits")).endsWith(9);
      float[] hidden = new float[2 * 5 * 384];
      for (int i = 0; i < hidden.length; i++) {
        hidden[i] = (float) Math.sin(i);
      }
      long[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
      try (OnnxTensor h = session.floatTensor(hidden, 2, 5, 384);
           OnnxTensor m = session.longTensor(mask, 2, 5);
           OrtSession.Result out = session.run(Map.of("last_hidden_state", h, "attention_mask", m), OUTPUTS)) {
        assertThat(session.floats(out, "sentiment_logits", 6)).hasSize(6);
        assertThat(session.floats(out, "entity_logits", 2 * 5 * 9)).hasSize(90);
        assertThatThrownBy(() -> session.floats(out, "class_logits", 7))
            .isInstanceOf(InferenceException.class)
            .hasMessageContaining("expected 7 float values");
      }
    }
  }

  @Test
  void wrongInterfaceNamesTheFileAndTheNames() throws Exception {
    byte[] wrong = resource("fixtures/wrong-io-heads.onnx");
    assertThatThrownBy(() -> ModelSession.open(RUNTIME, "heads", "bundle/heads.onnx", wrong, INPUTS,
        Set.of("sentiment_logits", "class_logits", "entity_logits", "pooled")))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("bundle/heads.onnx: model heads has the wrong interface")
        .hasMessageContaining("missing inputs [last_hidden_state]")
        .hasMessageContaining("unexpected inputs [hidden_states]")
        .hasMessageContaining("missing outputs [pooled]");
  }

  @Test
  void bytesThatAreNotAModelFailNamingTheFile() {
    assertThatThrownBy(() -> ModelSession.open(RUNTIME, "heads", "bundle/heads.onnx", new byte[] {1, 2, 3}, INPUTS, OUTPUTS))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("bundle/heads.onnx: ONNX Runtime cannot load model heads");
  }

  @Test
  void aNativeFailureIsWrappedWithModelIdAndFile() throws Exception {
    try (ModelSession session = ModelSession.open(RUNTIME, "heads@1", "bundle/heads.onnx", resource(HEADS), INPUTS, OUTPUTS);
         OnnxTensor h = session.floatTensor(new float[2 * 3 * 10], 2, 3, 10); // hidden size 10, not 384
         OnnxTensor m = session.longTensor(new long[6], 2, 3)) {
      assertThatThrownBy(() -> session.run(Map.of("last_hidden_state", h, "attention_mask", m), OUTPUTS))
          .isInstanceOf(InferenceException.class)
          .hasMessageStartingWith("model heads@1 (bundle/heads.onnx): inference failed")
          .satisfies(e -> {
            assertThat(((InferenceException) e).modelId()).isEqualTo("heads@1");
            assertThat(((InferenceException) e).modelFile()).isEqualTo("bundle/heads.onnx");
          });
    }
  }

  @Test
  void closeIsIdempotent() throws Exception {
    ModelSession session = ModelSession.open(RUNTIME, "heads", "heads.onnx", resource(HEADS), INPUTS, OUTPUTS);
    session.close();
    session.close();
  }
}
