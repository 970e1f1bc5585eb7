package io.nlpstream.models.gpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.runtime.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model directory that cannot work fails at load, naming the file. */
class ModelDirectoryTest {

  @TempDir
  Path tmp;

  private static ModelLoadException loadFailure(Path dir) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(
        () -> GptFixtures.open(dir, GeneratorOptions.defaults()).close());
    assertThat(t).isInstanceOf(ModelLoadException.class);
    return (ModelLoadException) t;
  }

  private Path copy(String model) {
    return GptFixtures.copy(model, tmp.resolve(model));
  }

  private static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
    ObjectNode config = (ObjectNode) GptFixtures.JSON.readTree(dir.resolve("config.json").toFile());
    edit.accept(config);
    GptFixtures.JSON.writeValue(dir.resolve("config.json").toFile(), config);
  }

  @Test
  void readsBothConfigFamilies() {
    DecoderConfig gpt2 = DecoderConfig.read(GptFixtures.dir(GptFixtures.GPT2));
    assertThat(gpt2.modelType()).isEqualTo("gpt2");
    assertThat(gpt2.layers()).isEqualTo(2);
    assertThat(gpt2.attentionHeads()).isEqualTo(4);
    assertThat(gpt2.kvHeads()).isEqualTo(4);
    assertThat(gpt2.headDim()).isEqualTo(16);
    assertThat(gpt2.contextLength()).isEqualTo(256);
    assertThat(gpt2.eosTokenIds()).containsExactly(361L);
    DecoderConfig llama = DecoderConfig.read(GptFixtures.dir(GptFixtures.LLAMA));
    assertThat(llama.modelType()).isEqualTo("llama");
    assertThat(llama.attentionHeads()).isEqualTo(4);
    assertThat(llama.kvHeads()).isEqualTo(2);
    assertThat(llama.headDim()).isEqualTo(16);
    assertThat(llama.eosTokenIds()).containsExactly(2L);
    assertThat(llama.bosTokenId()).isEqualTo(OptionalLong.of(1));
  }

  @Test
  void generationConfigOverridesEosAndThePadIdStaysInTheVocabulary() throws Exception {
    Path dir = copy(GptFixtures.LLAMA);
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [999999, 7], \"bos_token_id\": 1}");
    DecoderConfig config = DecoderConfig.read(dir);
    assertThat(config.eosTokenIds()).containsExactly(999999L, 7L);
    assertThat(config.padTokenId()).isEqualTo(7L);
    Files.delete(dir.resolve("generation_config.json"));
    assertThat(DecoderConfig.read(dir).eosTokenIds()).containsExactly(2L); // falls back to config.json
  }

  @Test
  void missingFilesAreNamed() throws Exception {
    Path noConfig = copy(GptFixtures.GPT2);
    Files.delete(noConfig.resolve("config.json"));
    assertThat(loadFailure(noConfig).file()).isEqualTo(noConfig.resolve("config.json").toString());

    Path noTokenizer = GptFixtures.copy(GptFixtures.LLAMA, tmp.resolve("no-tokenizer"));
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    assertThat(loadFailure(noTokenizer).file()).isEqualTo(noTokenizer.resolve("tokenizer.json").toString());

    Path noModel = GptFixtures.copy(GptFixtures.GPT2, tmp.resolve("no-model"));
    Files.delete(noModel.resolve("model.onnx"));
    ModelLoadException e = loadFailure(noModel);
    assertThat(e.file()).isEqualTo(noModel.resolve("model.onnx").toString());
    assertThat(e).hasMessageContaining("no decoder ONNX file");

    assertThat(loadFailure(tmp.resolve("nowhere")).file()).isEqualTo(tmp.resolve("nowhere").toString());
  }

  @Test
  void corruptFilesAreNamed() throws Exception {
    Path badModel = copy(GptFixtures.GPT2);
    Files.writeString(badModel.resolve("model.onnx"), "not a protobuf");
    assertThat(loadFailure(badModel).file()).isEqualTo(badModel.resolve("model.onnx").toString());

    Path badTokenizer = GptFixtures.copy(GptFixtures.GPT2, tmp.resolve("bad-tokenizer"));
    Files.writeString(badTokenizer.resolve("tokenizer.json"), "{\"model\": {\"type\": \"nonsense\"}}");
    assertThat(loadFailure(badTokenizer).file()).isEqualTo(badTokenizer.resolve("tokenizer.json").toString());

    Path badConfig = GptFixtures.copy(GptFixtures.GPT2, tmp.resolve("bad-config"));
    Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": \"gpt2\", \"n_layer\": 2}");
    ModelLoadException e = loadFailure(badConfig);
    assertThat(e.file()).isEqualTo(badConfig.resolve("config.json").toString());
    assertThat(e).hasMessageContaining("num_attention_heads, n_head");
  }

  @Test
  void wrongPastNamesAreRejected() {
    ModelLoadException e = loadFailure(GptFixtures.dir("bad-past-names"));
    assertThat(e.file()).endsWith("model.onnx");
    assertThat(e).hasMessageContaining("past_key_values.0.key");
  }

  @Test
  void aLayerCountThatDisagreesWithTheGraphIsRejected() throws Exception {
    Path dir = copy(GptFixtures.GPT2);
    editConfig(dir, c -> c.put("n_layer", 3));
    ModelLoadException e = loadFailure(dir);
    assertThat(e.file()).isEqualTo(dir.resolve("model.onnx").toString());
    assertThat(e).hasMessageContaining("2 layers").hasMessageContaining("config.json says 3 layers");
  }

  @Test
  void kvHeadsThatDisagreeWithTheGraphAreRejected() throws Exception {
    Path dir = copy(GptFixtures.LLAMA);
    editConfig(dir, c -> c.put("num_key_value_heads", 4)); // the export has 2 (grouped-query attention)
    ModelLoadException e = loadFailure(dir);
    assertThat(e.file()).isEqualTo(dir.resolve("model.onnx").toString());
    assertThat(e).hasMessageContaining("has 2 key/value heads").hasMessageContaining("implies 4");
  }

  @Test
  void aHeadSizeThatDisagreesWithTheGraphIsRejected() throws Exception {
    Path dir = copy(GptFixtures.GPT2);
    editConfig(dir, c -> c.put("n_head", 2)); // 64 / 2 = 32, the graph has 4 heads of 16
    assertThat(loadFailure(dir)).hasMessageContaining("key/value heads");
    Path headDim = GptFixtures.copy(GptFixtures.LLAMA, tmp.resolve("head-dim"));
    editConfig(headDim, c -> c.put("head_dim", 8));
    assertThat(loadFailure(headDim)).hasMessageContaining("head size 16").hasMessageContaining("implies 8");
  }

  @Test
  void aVocabularyThatDisagreesWithTheLogitsIsRejected() throws Exception {
    Path dir = copy(GptFixtures.GPT2);
    editConfig(dir, c -> c.put("vocab_size", 50257));
    assertThat(loadFailure(dir)).hasMessageContaining("logits have 362 classes")
        .hasMessageContaining("vocab_size 50257");
  }

  @Test
  void aTokenizerWithIdsBeyondTheVocabularyIsRejected() throws Exception {
    Path dir = copy(GptFixtures.LLAMA);
    Files.copy(GptFixtures.dir(GptFixtures.GPT2).resolve("tokenizer.json"), dir.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    editConfig(dir, c -> c.put("vocab_size", 300)); // the GPT-2 fixture's tokenizer has 362 ids
    ModelLoadException e = loadFailure(dir);
    assertThat(e.file()).isEqualTo(dir.resolve("tokenizer.json").toString());
    assertThat(e).hasMessageContaining("token ids up to 361").hasMessageContaining("vocab_size 300");
  }

  @Test
  void aConfiguredOnnxFileMustExist() {
    assertThatThrownBy(() -> GptFixtures.open(GptFixtures.GPT2,
        GeneratorOptions.builder().onnxFile("onnx/decoder_model_merged.onnx").build()))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("decoder_model_merged.onnx");
  }
}
