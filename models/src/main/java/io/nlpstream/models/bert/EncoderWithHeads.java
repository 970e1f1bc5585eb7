package io.nlpstream.models.bert;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.ModelSession;
import java.util.Map;
import java.util.Set;

/**
 * A BERT encoder session whose {@code last_hidden_state} feeds a heads session: per batch one
 * encoder call and one heads call. The hidden states stay in ONNX Runtime's memory between the two
 * calls (the encoder's output tensor is the heads' input), nothing is copied through Java.
 *
 * <p>Encoder interface: inputs {@code input_ids}, {@code attention_mask}, {@code token_type_ids}
 * (int64 [B,S]); output {@code last_hidden_state} (float32 [B,S,H]). Heads interface: inputs
 * {@code last_hidden_state} and {@code attention_mask}; outputs {@code sentiment_logits} [B,Ns],
 * {@code class_logits} [B,Nc], {@code entity_logits} [B,S,Ne].
 *
 * <p>Not safe for concurrent runs (callers serialise); owns and closes both sessions.
 */
public final class EncoderWithHeads implements BertNetwork {

  public static final Set<String> ENCODER_INPUTS = Set.of("input_ids", "attention_mask", "token_type_ids");
  public static final Set<String> ENCODER_OUTPUTS = Set.of("last_hidden_state");
  public static final Set<String> HEADS_INPUTS = Set.of("last_hidden_state", "attention_mask");
  public static final Set<String> HEADS_OUTPUTS = Set.of("sentiment_logits", "class_logits", "entity_logits");

  private final ModelSession encoder;
  private final ModelSession heads;
  private final int sentimentLabels;
  private final int classLabels;
  private final int entityLabels;

  /**
   * Takes ownership of both sessions (closes them on failure too). Checks every statically known
   * dimension: hidden size of encoder output and heads input, and the label counts of the logits.
   *
   * @throws ModelLoadException naming the file whose shape disagrees
   */
  public EncoderWithHeads(ModelSession encoder, ModelSession heads, int hiddenSize,
                          int sentimentLabels, int classLabels, int entityLabels) {
    this.encoder = encoder;
    this.heads = heads;
    this.sentimentLabels = sentimentLabels;
    this.classLabels = classLabels;
    this.entityLabels = entityLabels;
    try {
      checkLastDim(encoder, "last_hidden_state", hiddenSize, "hidden_size");
      checkLastDim(heads, "last_hidden_state", hiddenSize, "hidden_size");
      checkLastDim(heads, "sentiment_logits", sentimentLabels, "labels.sentiment");
      checkLastDim(heads, "class_logits", classLabels, "labels.classes");
      checkLastDim(heads, "entity_logits", entityLabels, "labels.entities");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static void checkLastDim(ModelSession session, String tensor, int expected, String manifestField) {
    long[] shape = session.shape(tensor);
    long last = shape.length == 0 ? -1 : shape[shape.length - 1];
    if (last >= 0 && last != expected) {
      throw new ModelLoadException(session.file(), "tensor " + tensor + " of model " + session.modelId()
          + " has last dimension " + last + " but the manifest's " + manifestField + " says " + expected);
    }
  }

  @Override
  public Logits run(Batch input) {
    int batch = input.size();
    int seq = input.seq();
    try (OnnxTensor ids = encoder.longTensor(input.inputIds(), batch, seq);
         OnnxTensor mask = encoder.longTensor(input.attentionMask(), batch, seq);
         OnnxTensor types = encoder.longTensor(new long[batch * seq], batch, seq);
         OrtSession.Result encoded = encoder.run(
             Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types), ENCODER_OUTPUTS)) {
      OnnxValue hidden = encoded.get("last_hidden_state")
          .orElseThrow(() -> new InferenceException(encoder.modelId(), encoder.file(), "no last_hidden_state", null));
      if (!(hidden instanceof OnnxTensor hiddenTensor)) {
        throw new InferenceException(encoder.modelId(), encoder.file(), "last_hidden_state is not a tensor", null);
      }
      try (OrtSession.Result out = heads.run(
          Map.of("last_hidden_state", hiddenTensor, "attention_mask", mask), HEADS_OUTPUTS)) {
        return new Logits(
            heads.floats(out, "sentiment_logits", (long) batch * sentimentLabels),
            heads.floats(out, "class_logits", (long) batch * classLabels),
            heads.floats(out, "entity_logits", (long) batch * seq * entityLabels));
      }
    }
  }

  @Override
  public void close() {
    try {
      encoder.close();
    } finally {
      heads.close();
    }
  }
}
