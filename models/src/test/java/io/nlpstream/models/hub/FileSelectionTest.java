package io.nlpstream.models.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which files a pull takes from the layouts of real export repositories. */
class FileSelectionTest {

  private static RepoFile git(String path, long size) {
    return new RepoFile(path, size, "a".repeat(40), Optional.empty());
  }

  private static RepoFile lfs(String path, long size) {
    return new RepoFile(path, size, "b".repeat(40), Optional.of("c".repeat(64)));
  }

  /** The layout of openai-community/gpt2 (abridged): PyTorch and TF weights at the root, Optimum's export in onnx/. */
  private static final List<RepoFile> GPT2 = List.of(
      git("config.json", 665), git("generation_config.json", 124), git("merges.txt", 456318),
      lfs("model.safetensors", 548105171), lfs("pytorch_model.bin", 548118077), git("tokenizer.json", 1355256),
      git("tokenizer_config.json", 26), git("vocab.json", 1042301), git("onnx/config.json", 879),
      lfs("onnx/decoder_model.onnx", 653665842), lfs("onnx/decoder_model_merged.onnx", 655189339),
      lfs("onnx/decoder_with_past_model.onnx", 653672649), git("onnx/tokenizer.json", 2107653));

  /** The layout of onnx-community/Qwen2.5-0.5B-Instruct (abridged): transformers.js variants in onnx/. */
  private static final List<RepoFile> QWEN = List.of(
      git("config.json", 744), git("generation_config.json", 242), lfs("tokenizer.json", 7031673),
      git("tokenizer_config.json", 7305), git("special_tokens_map.json", 613), lfs("onnx/model.onnx", 1999000),
      lfs("onnx/model.onnx_data", 1976000000L), lfs("onnx/model_fp16.onnx", 988000000),
      lfs("onnx/model_q4.onnx", 786000000), lfs("onnx/model_int8.onnx", 499000000),
      lfs("onnx/model_quantized.onnx", 499000000), lfs("onnx/model_q4f16.onnx", 483000000));

  private static List<String> paths(FileSelection.Selection s) {
    return s.files().stream().map(RepoFile::path).toList();
  }

  @Test
  void gpt2TakesTheMergedDecoderAndTheRootFiles() {
    FileSelection.Selection s = FileSelection.select("openai-community/gpt2", GPT2, Optional.empty(), List.of());
    assertThat(s.graph().path()).isEqualTo("onnx/decoder_model_merged.onnx");
    assertThat(s.externalData()).isEmpty();
    assertThat(paths(s)).containsExactly("tokenizer_config.json", "generation_config.json", "config.json",
        "tokenizer.json", "onnx/decoder_model_merged.onnx");
  }

  @Test
  void qwenTakesModelOnnxWithItsExternalDataLast() {
    FileSelection.Selection s = FileSelection.select("q", QWEN, Optional.empty(), List.of());
    assertThat(s.graph().path()).isEqualTo("onnx/model.onnx");
    assertThat(s.externalData()).extracting(RepoFile::path).containsExactly("onnx/model.onnx_data");
    assertThat(paths(s)).endsWith("onnx/model.onnx", "onnx/model.onnx_data")
        .contains("special_tokens_map.json", "tokenizer.json").hasSize(7);
  }

  @Test
  void variantsPickTheirGraph() {
    assertThat(FileSelection.select("q", QWEN, Optional.of("q4"), List.of()).graph().path())
        .isEqualTo("onnx/model_q4.onnx");
    assertThat(FileSelection.select("q", QWEN, Optional.of("q8"), List.of()).graph().path())
        .isEqualTo("onnx/model_quantized.onnx");
    assertThat(FileSelection.select("q", QWEN, Optional.of("fp32"), List.of()).externalData()).hasSize(1);
    assertThat(FileSelection.select("q", QWEN, Optional.of("int8"), List.of()).externalData()).isEmpty();
    assertThatThrownBy(() -> FileSelection.select("q", QWEN, Optional.of("bnb4"), List.of()))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("variant bnb4")
        .hasMessageContaining("onnx/model_q4.onnx")
        .hasMessageContaining("--variant");
  }

  @Test
  void includeGlobsReplaceTheChoice() {
    FileSelection.Selection s = FileSelection.select("q", QWEN, Optional.empty(),
        List.of("*.json", "onnx/model_int8.onnx"));
    assertThat(s.graph().path()).isEqualTo("onnx/model_int8.onnx");
    assertThat(paths(s)).containsExactlyInAnyOrder("config.json", "generation_config.json", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "onnx/model_int8.onnx");
    assertThatThrownBy(() -> FileSelection.select("q", QWEN, Optional.empty(), List.of("*.bin")))
        .hasMessageContaining("no file matches --include [*.bin]");
  }

  @Test
  void aRepositoryWithoutOnnxSaysSo() {
    assertThatThrownBy(() -> FileSelection.select("meta/llama", List.of(git("config.json", 1),
        lfs("model.safetensors", 10)), Optional.empty(), List.of()))
        .hasMessageContaining("meta/llama").hasMessageContaining("no .onnx file");
  }

  @Test
  void idsDeriveFromTheRepository() {
    assertThat(ModelPull.defaultId("openai-community/gpt2", Optional.empty())).isEqualTo("openai-community--gpt2");
    assertThat(ModelPull.defaultId("onnx-community/Qwen2.5-0.5B-Instruct", Optional.of("q4")))
        .isEqualTo("onnx-community--Qwen2.5-0.5B-Instruct-q4");
    assertThat(ModelPull.defaultId("gpt2", Optional.of("fp32"))).isEqualTo("gpt2");
  }
}
