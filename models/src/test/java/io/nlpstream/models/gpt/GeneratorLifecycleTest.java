package io.nlpstream.models.gpt;

import static io.nlpstream.models.gpt.GptFixtures.PROMPTS;
import static io.nlpstream.models.gpt.GptFixtures.await;
import static io.nlpstream.models.gpt.GptFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Backpressure, cancellation, budgets and closing. */
class GeneratorLifecycleTest {

  @Test
  void submitRejectsWhenTheWaitingQueueIsFullAndEveryAcceptedRequestCompletes() {
    GeneratorOptions options = GptFixtures.rawOptions().maxBatchSize(1).maxWaiting(2).build();
    try (Generator generator = GptFixtures.open(GptFixtures.GPT2, options)) {
      List<CompletableFuture<Generation>> accepted = new ArrayList<>();
      boolean rejected = false;
      // One request decodes (200 steps) while two wait; submitting is far faster than decoding.
      for (int i = 0; i < 50 && !rejected; i++) {
        try {
          accepted.add(generator.submit(request("p" + i, PROMPTS.get(i % PROMPTS.size()), DecodingParams.greedy(200))));
        } catch (RejectedExecutionException e) {
          assertThat(e).hasMessageContaining("maxWaiting");
          rejected = true;
        }
      }
      assertThat(rejected).isTrue();
      assertThat(accepted).hasSizeGreaterThanOrEqualTo(2); // maxWaiting, plus any the loop took already
      for (CompletableFuture<Generation> f : accepted) {
        Generation g = await(f);
        if (g.finishReason() == FinishReason.LENGTH) {
          assertThat(g.generatedTokens()).isEqualTo(200);
        }
      }
      assertThat(generator.stats().submitted()).isEqualTo(accepted.size());
      assertThat(generator.stats().completed()).isEqualTo(accepted.size());
      assertThat(generator.stats().waiting()).isZero();
    }
  }

  @Test
  void theTokenBudgetLimitsTheBatchAndARequestLargerThanTheBudgetRunsAlone() {
    // Each request reserves prompt + 40 tokens; a budget of 100 fits at most one or two of them.
    GeneratorOptions options = GptFixtures.rawOptions().maxBatchSize(8).maxBatchTokens(100).build();
    try (Generator generator = GptFixtures.open(GptFixtures.LLAMA, options)) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        futures.add(generator.submit(request("p" + i, PROMPTS.get(i), DecodingParams.greedy(40))));
      }
      // Larger than the whole budget: admitted once the batch is empty.
      futures.add(generator.submit(request("big", PROMPTS.get(3), DecodingParams.greedy(90))));
      for (CompletableFuture<Generation> f : futures) {
        await(f);
      }
      GeneratorStats stats = generator.stats();
      assertThat(stats.meanBatchSize()).isLessThanOrEqualTo(2.0);
      assertThat(stats.completed()).isEqualTo(7);
    }
  }

  @Test
  void cancellingAFutureRetiresItsSequenceAndTheOthersCarryOn() throws Exception {
    List<Generation> alone = new ArrayList<>();
    try (Generator generator = GptFixtures.open(GptFixtures.LLAMA, GptFixtures.rawOptions().build())) {
      alone.add(await(generator.submit(request("b", PROMPTS.get(1), DecodingParams.greedy(50)))));
    }
    try (Generator generator = GptFixtures.open(GptFixtures.LLAMA, GptFixtures.rawOptions().maxBatchSize(4).build())) {
      CompletableFuture<Generation> doomed = generator.submit(request("a", PROMPTS.get(0), DecodingParams.greedy(200)));
      CompletableFuture<Generation> survivor = generator.submit(request("b", PROMPTS.get(1), DecodingParams.greedy(50)));
      while (generator.stats().decodeSteps() < 5) {
        Thread.sleep(1);
      }
      assertThat(doomed.cancel(true)).isTrue();
      assertThat(await(survivor).tokenIds()).isEqualTo(alone.get(0).tokenIds());
      GeneratorStats stats = generator.stats();
      assertThat(stats.failed()).isEqualTo(1);
      assertThat(stats.generated()).isLessThan(200);
    }
  }

  @Test
  void closeCancelsUnfinishedRequestsAndLaterSubmitsFail() throws Exception {
    // Six requests of 200 tokens, two at a time: close() comes long before they can finish.
    Generator generator = GptFixtures.open(GptFixtures.GPT2, GptFixtures.rawOptions().maxBatchSize(2).build());
    List<CompletableFuture<Generation>> futures = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      futures.add(generator.submit(request("p" + i, PROMPTS.get(i), DecodingParams.greedy(200))));
    }
    generator.close();
    int cancelled = 0;
    for (CompletableFuture<Generation> f : futures) {
      assertThat(f).isDone();
      try {
        f.get(0, TimeUnit.SECONDS);
      } catch (CancellationException e) {
        assertThat(e).hasMessageContaining("closed");
        cancelled++;
      }
    }
    assertThat(cancelled).isPositive();
    assertThatThrownBy(() -> generator.submit(request("late", "text", DecodingParams.greedy(5))))
        .isInstanceOf(IllegalStateException.class);
    generator.close(); // idempotent
  }

  @Test
  void requestsThatCannotFitAreRejectedAtSubmit() {
    try (Generator generator = GptFixtures.open(GptFixtures.GPT2, GeneratorOptions.defaults())) {
      assertThat(generator.contextLength()).isEqualTo(256);
      assertThat(generator.modelId()).isEqualTo("tiny-gpt2");
      assertThatThrownBy(() -> generator.submit(request("x", "text", DecodingParams.greedy(256))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_new_tokens 256");
      assertThatThrownBy(() -> request("blank", "  \n", DecodingParams.greedy(5)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blank");
      assertThatThrownBy(() -> GenerationKind.fromWireName("poem"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown generation kind 'poem'");
      assertThat(GenerationKind.fromWireName("reply")).isEqualTo(GenerationKind.REPLY);
    }
  }

  @Test
  void thePlainTemplateRunsEndToEnd() {
    try (Generator generator = GptFixtures.open(GptFixtures.LLAMA, GeneratorOptions.defaults())) {
      Generation g = await(generator.submit(new GenerationRequest("r", GenerationKind.REPLY,
          "A: Can we meet tomorrow at ten?\nB: Sure.", DecodingParams.greedy(20))));
      assertThat(g.promptTokens()).isEqualTo(
          generator.prompt(GenerationKind.REPLY, "A: Can we meet tomorrow at ten?\nB: Sure.", 20).length());
      assertThat(g.generatedTokens()).isBetween(1, 20);
      assertThat(g.finishReason()).isIn(FinishReason.STOP, FinishReason.LENGTH);
      if (g.finishReason() == FinishReason.LENGTH) {
        assertThat(g.generatedTokens()).isEqualTo(20);
      }
      assertThat(g.text()).doesNotContain("\n\n");
    }
  }
}
