package io.nlpstream.models.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The project's default GPT-stage model ({@code models/catalog/minilm-gpt-dialog}, trained and
 * exported by {@code models/training/gpt/}) in the Java runtime: it loads, builds the prompts it was
 * trained on, reproduces PyTorch, and decodes deterministically. Mechanics only, not quality (the
 * model card reports dev ROUGE).
 *
 * <p>{@code reference.json} in the bundle holds dev inputs with the prompt ids the training data
 * had and PyTorch's greedy continuation computed with the weights the ONNX graph holds. Equal
 * prompt ids mean the runtime's {@code plain} templates, sanitizing and DJL tokenization still
 * produce what the model was trained on; equal continuations mean the export (positions from the
 * mask, KV cache, int8 weights folded back to float) computes the trained function.
 */
class DefaultModelIT {

  static final String ID = "minilm-gpt-dialog";
  static final long EOS = 102; // [SEP], generation_config.json's eos_token_id

  static Path bundle;
  static JsonNode reference;
  static Generator generator;

  @BeforeAll
  static void open() throws IOException {
    bundle = Path.of(System.getProperty("nlpstream.gpt.bundle", "catalog/" + ID));
    assertThat(bundle.resolve("model.onnx")).as("the default GPT bundle (run from the models module)").isRegularFile();
    reference = GptFixtures.JSON.readTree(bundle.resolve("reference.json").toFile());
    generator = open(true);
  }

  static Generator open(boolean kvCache) {
    return GptFixtures.open(bundle, GeneratorOptions.builder().modelId(ID).templates(PromptTemplates.plain())
        .maxBatchSize(8).kvCache(kvCache).build());
  }

  @AfterAll
  static void close() {
    if (generator != null) {
      generator.close();
    }
  }

  static List<JsonNode> examples() {
    List<JsonNode> out = new ArrayList<>();
    reference.get("examples").forEach(out::add);
    return out;
  }

  static GenerationRequest request(JsonNode example, int maxNew) {
    return new GenerationRequest(example.get("id").asText(),
        GenerationKind.fromWireName(example.get("kind").asText()), example.get("input").asText(),
        DecodingParams.greedy(maxNew));
  }

  @Test
  void declaresItsShapeAndContext() throws IOException {
    assertThat(generator.modelId()).isEqualTo(ID);
    assertThat(generator.contextLength()).isEqualTo(384);
    DecoderConfig config = DecoderConfig.read(bundle);
    assertThat(config.layers()).isEqualTo(6);
    assertThat(config.vocabSize()).isEqualTo(30522);
    assertThat(config.eosTokenIds()).containsExactly(EOS);
    assertThat(Files.size(bundle.resolve("model.onnx"))).isLessThan(30L * 1024 * 1024);
  }

  @Test
  void promptsAreTheOnesTheModelWasTrainedOn() {
    int maxNew = reference.get("max_new_tokens").asInt();
    assertThat(examples()).extracting(e -> e.get("kind").asText()).contains("summary", "reply");
    for (JsonNode e : examples()) {
      EncodedPrompt prompt = generator.prompt(GenerationKind.fromWireName(e.get("kind").asText()),
          e.get("input").asText(), maxNew);
      assertThat(prompt.ids()).as("prompt ids of %s", e.get("id").asText())
          .containsExactly(ReferenceDecodingTest.longs(e.get("prompt_ids")));
      assertThat(prompt.truncated()).isFalse();
    }
  }

  @Test
  void batchedCachedGreedyDecodingReproducesPyTorch() {
    int maxNew = reference.get("max_new_tokens").asInt();
    List<CompletableFuture<Generation>> futures = new ArrayList<>();
    for (JsonNode e : examples()) {
      futures.add(generator.submit(request(e, maxNew)));
    }
    List<Generation> results = GptFixtures.awaitAll(futures);
    for (int i = 0; i < results.size(); i++) {
      JsonNode e = examples().get(i);
      assertThat(results.get(i).tokenIds()).as("greedy ids of %s", e.get("id").asText())
          .containsExactly(ReferenceDecodingTest.boxed(e.get("greedy_ids")));
    }
  }

  @Test
  void writesASummaryAndAReplyForDevExamples() {
    for (String kind : List.of("summary", "reply")) {
      JsonNode e = examples().stream().filter(x -> x.get("kind").asText().equals(kind)).findFirst().orElseThrow();
      int maxNew = 64;
      Generation g = GptFixtures.await(generator.submit(request(e, maxNew)));
      assertThat(g.text()).as("%s text", kind).isNotBlank();
      assertThat(g.tokenIds()).hasSize(g.generatedTokens());
      assertThat(g.generatedTokens()).isBetween(1, maxNew);
      if (g.finishReason() == FinishReason.STOP) {
        assertThat(g.tokenIds().get(g.tokenIds().size() - 1)).as("a STOP ends with the EOS").isEqualTo(EOS);
      } else {
        assertThat(g.generatedTokens()).isEqualTo(maxNew);
        assertThat(g.tokenIds()).doesNotContain(EOS);
      }
      assertThat(g.promptTokens()).isEqualTo(generator.prompt(GenerationKind.fromWireName(kind),
          e.get("input").asText(), maxNew).length());
      assertThat(g.truncated()).isFalse();
      // Special tokens are dropped from the text; WordPiece pieces are joined back into words.
      assertThat(g.text()).doesNotContain("[SEP]", "[CLS]", "[PAD]", " ##");
    }
  }

  @Test
  void greedyIsDeterministicAloneBatchedAndWithoutTheCache() {
    JsonNode e = examples().get(0);
    Generation alone = GptFixtures.await(generator.submit(request(e, 32)));
    List<CompletableFuture<Generation>> batch = new ArrayList<>();
    for (JsonNode other : examples()) {
      batch.add(generator.submit(request(other, 32)));
    }
    Generation inBatch = GptFixtures.awaitAll(batch).get(0);
    assertThat(inBatch.tokenIds()).isEqualTo(alone.tokenIds());
    assertThat(inBatch.text()).isEqualTo(alone.text());
    try (Generator uncached = open(false)) {
      Generation recomputed = GptFixtures.await(uncached.submit(request(e, 32)));
      assertThat(recomputed.tokenIds()).isEqualTo(alone.tokenIds());
    }
  }
}
