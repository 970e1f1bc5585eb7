package io.nlpstream.models.gpt;

import static io.nlpstream.models.gpt.GptFixtures.PROMPTS;
import static io.nlpstream.models.gpt.GptFixtures.await;
import static io.nlpstream.models.gpt.GptFixtures.awaitAll;
import static io.nlpstream.models.gpt.GptFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoding loop's mechanics on both fixtures: the KV cache, batching and joining mid-flight
 * must not change any sequence's tokens. (Random weights: the tests compare outputs of different
 * paths, never their quality.)
 */
class ContinuousBatchingTest {

  static Stream<String> models() {
    return GptFixtures.models();
  }

  /** Every prompt alone: one request at a time, batch size 1. */
  private static List<Generation> oneAtATime(String model, GeneratorOptions options, List<DecodingParams> params) {
    List<Generation> out = new ArrayList<>();
    try (Generator generator = GptFixtures.open(model, options.toBuilder().maxBatchSize(1).build())) {
      for (int i = 0; i < PROMPTS.size(); i++) {
        out.add(await(generator.submit(request("p" + i, PROMPTS.get(i), params.get(i)))));
      }
    }
    return out;
  }

  private static List<DecodingParams> greedy(int maxNew) {
    List<DecodingParams> params = new ArrayList<>();
    for (int i = 0; i < PROMPTS.size(); i++) {
      params.add(DecodingParams.greedy(maxNew + 3 * i)); // different lengths: sequences retire at different steps
    }
    return params;
  }

  private static List<Long> ids(Generation g) {
    return g.tokenIds();
  }

  @ParameterizedTest
  @MethodSource("models")
  void cachedAndUncachedDecodingGiveIdenticalTokens(String model) {
    List<DecodingParams> params = greedy(16);
    List<Generation> cached = oneAtATime(model, GptFixtures.rawOptions().build(), params);
    List<Generation> uncached = oneAtATime(model, GptFixtures.rawOptions().kvCache(false).build(), params);
    for (int i = 0; i < PROMPTS.size(); i++) {
      assertThat(ids(cached.get(i))).as("prompt %d", i).isEqualTo(ids(uncached.get(i)));
      assertThat(cached.get(i).text()).isEqualTo(uncached.get(i).text());
    }
    // The uncached path batches too: the whole batch recomputed each step.
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().kvCache(false).maxBatchSize(8).build())) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (int i = 0; i < PROMPTS.size(); i++) {
        futures.add(generator.submit(request("p" + i, PROMPTS.get(i), params.get(i))));
      }
      List<Generation> batched = awaitAll(futures);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertThat(ids(batched.get(i))).as("prompt %d", i).isEqualTo(ids(cached.get(i)));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void batchedAndOneAtATimeGreedyDecodingGiveIdenticalOutputs(String model) {
    List<DecodingParams> params = greedy(20);
    List<Generation> alone = oneAtATime(model, GptFixtures.rawOptions().build(), params);
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(8).build())) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (int i = 0; i < PROMPTS.size(); i++) {
        futures.add(generator.submit(request("p" + i, PROMPTS.get(i), params.get(i))));
      }
      List<Generation> batched = awaitAll(futures);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertThat(ids(batched.get(i))).as("prompt %d", i).isEqualTo(ids(alone.get(i)));
        assertThat(batched.get(i).text()).isEqualTo(alone.get(i).text());
        assertThat(batched.get(i).finishReason()).isEqualTo(alone.get(i).finishReason());
        assertThat(batched.get(i).promptTokens()).isEqualTo(alone.get(i).promptTokens());
      }
      assertThat(generator.stats().meanBatchSize()).as("sequences really shared decode steps").isGreaterThan(1.5);
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void sequencesJoiningARunningBatchGetTheSameOutputAsAlone(String model) throws Exception {
    List<DecodingParams> params = greedy(12);
    // the long-running first sequence: long enough that the 7 joins (3 decode steps apart) land while
    // it runs even when this thread is descheduled on a loaded machine (60 was not, under load)
    params.set(0, DecodingParams.greedy(200));
    List<Generation> alone = oneAtATime(model, GptFixtures.rawOptions().build(), params);
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(8).build())) {
      CompletableFuture<Generation> first = generator.submit(request("p0", PROMPTS.get(0), params.get(0)));
      List<CompletableFuture<Generation>> joiners = new ArrayList<>();
      // Join one at a time while the first is decoding: each joins a batch with a longer past
      // (it gets padded) or a shorter one (the batch gets padded), and some retire before others join.
      for (int i = 1; i < PROMPTS.size(); i++) {
        long steps = generator.stats().decodeSteps();
        while (generator.stats().decodeSteps() < steps + 3) {
          Thread.sleep(1);
        }
        assertThat(first).as("the first sequence is still running when %d joins", i).isNotDone();
        joiners.add(generator.submit(request("p" + i, PROMPTS.get(i), params.get(i))));
      }
      assertThat(ids(await(first))).isEqualTo(ids(alone.get(0)));
      List<Generation> joined = awaitAll(joiners);
      for (int i = 1; i < PROMPTS.size(); i++) {
        assertThat(ids(joined.get(i - 1))).as("prompt %d", i).isEqualTo(ids(alone.get(i)));
      }
      GeneratorStats stats = generator.stats();
      assertThat(stats.prefills()).isEqualTo(PROMPTS.size());
      assertThat(stats.meanBatchSize()).isGreaterThan(1.0);
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void samplingWithASeedIsReproducibleWhateverTheBatch(String model) {
    List<DecodingParams> params = new ArrayList<>();
    for (int i = 0; i < PROMPTS.size(); i++) {
      params.add(DecodingParams.sampling(24, 0.9, i % 2 == 0 ? 0 : 40, i % 3 == 0 ? 1.0 : 0.9, 1000 + i));
    }
    List<Generation> alone = oneAtATime(model, GptFixtures.rawOptions().build(), params);
    List<Generation> again = oneAtATime(model, GptFixtures.rawOptions().build(), params);
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(8).build())) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (int i = PROMPTS.size() - 1; i >= 0; i--) { // other order, other batch composition
        futures.add(0, generator.submit(request("p" + i, PROMPTS.get(i), params.get(i))));
      }
      List<Generation> batched = awaitAll(futures);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertThat(ids(again.get(i))).as("prompt %d twice", i).isEqualTo(ids(alone.get(i)));
        assertThat(ids(batched.get(i))).as("prompt %d batched", i).isEqualTo(ids(alone.get(i)));
      }
      // The seed matters: another seed gives another continuation, and sampling is not greedy.
      DecodingParams p = params.get(1);
      Generation otherSeed = await(generator.submit(request("x", PROMPTS.get(1),
          DecodingParams.sampling(p.maxNewTokens(), p.temperature(), p.topK(), p.topP(), 7))));
      assertThat(ids(otherSeed)).isNotEqualTo(ids(alone.get(1)));
      Generation greedy = await(generator.submit(request("g", PROMPTS.get(1), DecodingParams.greedy(p.maxNewTokens()))));
      assertThat(ids(greedy)).isNotEqualTo(ids(alone.get(1)));
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void theListenerSeesEveryDecoderCallTheStatsCount(String model) {
    record Call(DecoderCallListener.Phase phase, int sequences, int tokens, int padded, long nanos) {}
    List<Call> calls = java.util.Collections.synchronizedList(new ArrayList<>());
    for (boolean kvCache : new boolean[] {true, false}) {
      calls.clear();
      GeneratorOptions options = GptFixtures.rawOptions().kvCache(kvCache).maxBatchSize(8)
          .listener((phase, sequences, tokens, padded, nanos) -> calls.add(new Call(phase, sequences, tokens, padded,
              nanos)))
          .build();
      try (Generator generator = GptFixtures.open(model, options)) {
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int i = 0; i < PROMPTS.size(); i++) {
          futures.add(generator.submit(request("p" + i, PROMPTS.get(i), DecodingParams.greedy(8 + 2 * i))));
        }
        List<Generation> out = awaitAll(futures);
        GeneratorStats stats = generator.stats();
        List<Call> decode = calls.stream().filter(c -> c.phase() == DecoderCallListener.Phase.DECODE).toList();
        List<Call> prefill = calls.stream().filter(c -> c.phase() == DecoderCallListener.Phase.PREFILL).toList();
        assertThat(decode).as("kv cache %s", kvCache).hasSize((int) stats.decodeSteps());
        assertThat(decode.stream().mapToLong(Call::sequences).sum()).isEqualTo(stats.decodedRows());
        assertThat(prefill).hasSize((int) stats.prefills());
        assertThat(prefill.stream().mapToLong(Call::sequences).sum()).isEqualTo(stats.prefillRows());
        assertThat(calls.stream().mapToLong(Call::nanos).sum()).isEqualTo(stats.prefillNanos() + stats.decodeNanos());
        assertThat(calls).allSatisfy(c -> {
          assertThat(c.sequences()).isBetween(1, 8);
          assertThat(c.tokens()).isBetween(c.sequences(), c.padded());
        });
        if (kvCache) {
          // Prefill feeds each admitted prompt once; a decode step one token per sequence.
          assertThat(prefill.stream().mapToLong(Call::tokens).sum())
              .isEqualTo(out.stream().mapToLong(Generation::promptTokens).sum());
          assertThat(decode).allSatisfy(c -> assertThat(c.tokens()).isEqualTo(c.sequences()));
        }
        assertThat(decode.stream().mapToInt(Call::sequences).max().orElse(0)).as("batched").isGreaterThan(1);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void aFailingListenerDoesNotStopGeneration(String model) {
    GeneratorOptions options = GptFixtures.rawOptions()
        .listener((phase, sequences, tokens, padded, nanos) -> {
          throw new IllegalStateException("metrics bug");
        })
        .build();
    try (Generator generator = GptFixtures.open(model, options)) {
      Generation g = await(generator.submit(request("p0", PROMPTS.get(0), DecodingParams.greedy(6))));
      assertThat(g.generatedTokens()).isBetween(1, 6);
      assertThat(generator.stats().completed()).isEqualTo(1);
    }
  }
}
