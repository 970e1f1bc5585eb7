package io.nlpstream.models.gpt;

import static io.nlpstream.models.gpt.GptFixtures.PROMPTS;
import static io.nlpstream.models.gpt.GptFixtures.await;
import static io.nlpstream.models.gpt.GptFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** max_new_tokens, stop strings and EOS end sequences, alone and inside a batch. */
class FinishReasonTest {

  static Stream<String> models() {
    return GptFixtures.models();
  }

  @ParameterizedTest
  @MethodSource("models")
  void maxNewTokensEndsWithLength(String model) {
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().build())) {
      for (int maxNew : new int[] {1, 2, 7}) {
        Generation g = await(generator.submit(request("p", PROMPTS.get(0), DecodingParams.greedy(maxNew))));
        assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(g.generatedTokens()).isEqualTo(maxNew);
        assertThat(g.tokenIds()).hasSize(maxNew);
        assertThat(g.latency()).isPositive();
        assertThat(g.timeToFirstToken()).isPositive().isLessThanOrEqualTo(g.latency());
      }
    }
  }

  /** Picks a stop string out of the free-running output: two printable ASCII chars not at its start. */
  private static String stopStringIn(String text) {
    for (int i = 1; i + 2 <= text.length(); i++) {
      String candidate = text.substring(i, i + 2);
      if (candidate.chars().allMatch(c -> c >= 0x21 && c <= 0x7e) && text.indexOf(candidate) == i) {
        return candidate;
      }
    }
    for (int i = 1; i < text.length(); i++) {
      String candidate = text.substring(i, i + 1);
      if (candidate.chars().allMatch(c -> c >= 0x21 && c <= 0x7e) && text.indexOf(candidate) == i) {
        return candidate;
      }
    }
    throw new AssertionError("no printable ASCII in the fixture's output: " + text);
  }

  @ParameterizedTest
  @MethodSource("models")
  void aStopStringEndsWithStopAndCutsTheTextBeforeIt(String model) {
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(4).build())) {
      List<Generation> free = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        free.add(await(generator.submit(request("free" + i, PROMPTS.get(i), DecodingParams.greedy(40)))));
      }
      // All three at once with stop strings: each must stop on its own, the others unaffected.
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      List<String> stops = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String stop = stopStringIn(free.get(i).text());
        stops.add(stop);
        futures.add(generator.submit(request("stop" + i, PROMPTS.get(i),
            DecodingParams.greedy(40).withStopStrings(List.of("\u0000never", stop)))));
      }
      for (int i = 0; i < 3; i++) {
        Generation stopped = await(futures.get(i));
        String text = free.get(i).text();
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.text()).isEqualTo(text.substring(0, text.indexOf(stops.get(i))));
        assertThat(stopped.text()).doesNotContain(stops.get(i));
        assertThat(stopped.generatedTokens()).isLessThan(free.get(i).generatedTokens());
        assertThat(stopped.tokenIds()).isEqualTo(free.get(i).tokenIds().subList(0, stopped.generatedTokens()));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void theTemplatesStopStringsApplyToo(String model) {
    Generation free;
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().build())) {
      free = await(generator.submit(request("free", PROMPTS.get(1), DecodingParams.greedy(40))));
    }
    String stop = stopStringIn(free.text());
    PromptTemplates templates = GptFixtures.rawTemplates().with(GenerationKind.SUMMARY,
        new PromptTemplate(PromptTemplate.INPUT, List.of(), PromptTemplate.Keep.START, List.of(stop)));
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().templates(templates).build())) {
      Generation stopped = await(generator.submit(request("stop", PROMPTS.get(1), DecodingParams.greedy(40))));
      assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(stopped.text()).isEqualTo(free.text().substring(0, free.text().indexOf(stop)));
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void anEosTokenFromGenerationConfigEndsWithStop(String model, @TempDir Path tmp) throws Exception {
    Generation free;
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().build())) {
      free = await(generator.submit(request("free", PROMPTS.get(3), DecodingParams.greedy(30))));
    }
    assertThat(free.finishReason()).isEqualTo(FinishReason.LENGTH);
    // Make the token generated at step k (its first occurrence) an EOS token, in list form.
    List<Long> ids = free.tokenIds();
    int k = 3;
    while (ids.subList(0, k).contains(ids.get(k))) {
      k++;
    }
    long eos = ids.get(k);
    Path dir = GptFixtures.copy(model, tmp.resolve(model));
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [999999, " + eos + "]}");
    try (Generator generator = GptFixtures.open(dir, GptFixtures.rawOptions().maxBatchSize(4).build())) {
      CompletableFuture<Generation> withEos = generator.submit(request("eos", PROMPTS.get(3), DecodingParams.greedy(30)));
      CompletableFuture<Generation> other = generator.submit(request("other", PROMPTS.get(2), DecodingParams.greedy(5)));
      Generation g = await(withEos);
      assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(g.generatedTokens()).isEqualTo(k + 1); // the EOS token counts as generated
      assertThat(g.tokenIds()).isEqualTo(ids.subList(0, k + 1));
      try (DecoderTokenizer tokenizer = DecoderTokenizer.open(dir.resolve("tokenizer.json"))) {
        long[] kept = ids.subList(0, k).stream().mapToLong(Long::longValue).toArray();
        assertThat(g.text()).isEqualTo(tokenizer.decode(kept)); // EOS itself is not in the text
      }
      assertThat(await(other).generatedTokens()).isEqualTo(5);
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void aSequenceCanFinishOnItsFirstTokenWithoutJoiningTheBatch(String model) {
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(4).build())) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        futures.add(generator.submit(request("p" + i, PROMPTS.get(i), DecodingParams.greedy(i % 2 == 0 ? 1 : 9))));
      }
      for (int i = 0; i < 6; i++) {
        assertThat(await(futures.get(i)).generatedTokens()).isEqualTo(i % 2 == 0 ? 1 : 9);
      }
      GeneratorStats stats = generator.stats();
      assertThat(stats.completed()).isEqualTo(6);
      assertThat(stats.running()).isZero();
      assertThat(stats.generated()).isEqualTo(3 * 1 + 3 * 9);
    }
  }
}
