package io.nlpstream.models.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the real MiniLM encoder with fixture heads; interface checks that need live sessions. */
class ModelCatalogIT {

  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 0));

  @TempDir
  Path dir;

  @Test
  void opensTheFixtureBundleFromTheClasspath() {
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.empty()).openBertAnalyzer(FixtureBundle.ID, RUNTIME, 2048)) {
      assertThat(analyzer.models())
          .containsEntry("encoder", "all-minilm-l6-v2")
          .containsEntry("sentiment", "test-minilm-heads@0")
          .containsEntry("entities", "test-minilm-heads@0")
          .containsEntry("classes", "test-minilm-heads@0");
      assertThat(analyzer.analyze(List.of("It works."))).hasSize(1);
    }
  }

  @Test
  void headsWithWrongInputNamesAreRefusedNamingFileAndNames() throws Exception {
    byte[] wrong = FixtureBundle.resource("fixtures/wrong-io-heads.onnx");
    Path bundle = FixtureBundle.write(dir, "wrong-io", m ->
        ((ObjectNode) m.get("heads")).put("sha256", FixtureBundle.sha256(wrong)));
    Files.write(bundle.resolve("heads.onnx"), wrong);
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("wrong-io", RUNTIME, 2048))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("heads.onnx") + ": model wrong-io@0 has the wrong interface")
        .hasMessageContaining("missing inputs [last_hidden_state]")
        .hasMessageContaining("unexpected inputs [hidden_states]");
  }

  @Test
  void labelCountsMustMatchTheLogits() throws Exception {
    FixtureBundle.write(dir, "three-classes", m ->
        ((ObjectNode) m.get("labels")).putArray("classes").add("World").add("Sports").add("Business"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("three-classes", RUNTIME, 2048))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("heads.onnx: tensor class_logits of model three-classes@0 has last dimension 4")
        .hasMessageContaining("labels.classes says 3");
  }

  @Test
  void theHiddenSizeMustMatchTheEncoder() throws Exception {
    FixtureBundle.write(dir, "hidden-768", m -> ((ObjectNode) m.get("encoder")).put("hidden_size", 768));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("hidden-768", RUNTIME, 2048))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("classpath:all-minilm-l6-v2.onnx: tensor last_hidden_state")
        .hasMessageContaining("has last dimension 384 but the manifest's hidden_size says 768");
  }
}
