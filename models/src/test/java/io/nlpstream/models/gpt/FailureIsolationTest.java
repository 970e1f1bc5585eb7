package io.nlpstream.models.gpt;

import static io.nlpstream.models.gpt.GptFixtures.PROMPTS;
import static io.nlpstream.models.gpt.GptFixtures.await;
import static io.nlpstream.models.gpt.GptFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.runtime.InferenceException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request that breaks the decoder fails alone. The breakage is real: config.json claims more
 * positions (1024) than the GPT-2 graph's position table has (256), something no input/output check
 * can see, so a prompt past 256 tokens makes ONNX Runtime fail inside the prefill.
 */
class FailureIsolationTest {

  @TempDir
  Path tmp;

  @Test
  void aPrefillThatFailsFailsOnlyItsOwnRequestWithTheModelNamed() throws Exception {
    Path dir = GptFixtures.copy(GptFixtures.GPT2, tmp.resolve("lying-config"));
    ObjectNode config = (ObjectNode) GptFixtures.JSON.readTree(dir.resolve("config.json").toFile());
    config.put("n_positions", 1024).put("n_ctx", 1024);
    GptFixtures.JSON.writeValue(dir.resolve("config.json").toFile(), config);

    List<Generation> alone = new ArrayList<>();
    try (Generator generator = GptFixtures.open(GptFixtures.GPT2, GptFixtures.rawOptions().build())) {
      for (int i = 0; i < 3; i++) {
        alone.add(await(generator.submit(request("p" + i, PROMPTS.get(i), DecodingParams.greedy(10)))));
      }
    }
    String tooLong = "word ".repeat(400);
    try (Generator generator = GptFixtures.open(dir, GptFixtures.rawOptions().maxBatchSize(8).modelId("liar").build())) {
      // Queued together so that they share one prefill, which fails and is retried one by one.
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      futures.add(generator.submit(request("p0", PROMPTS.get(0), DecodingParams.greedy(10))));
      CompletableFuture<Generation> bad = generator.submit(request("bad", tooLong, DecodingParams.greedy(10)));
      futures.add(generator.submit(request("p1", PROMPTS.get(1), DecodingParams.greedy(10))));
      futures.add(generator.submit(request("p2", PROMPTS.get(2), DecodingParams.greedy(10))));

      Throwable failure = null;
      try {
        bad.get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      assertThat(failure).isInstanceOf(InferenceException.class);
      InferenceException inference = (InferenceException) failure;
      assertThat(inference.modelId()).isEqualTo("liar");
      assertThat(inference.modelFile()).isEqualTo(dir.resolve("model.onnx").toString());
      assertThat(inference).hasMessageContaining("liar").hasMessageContaining("model.onnx");

      for (int i = 0; i < 3; i++) {
        assertThat(await(futures.get(i)).tokenIds()).as("request %d", i).isEqualTo(alone.get(i).tokenIds());
      }
      GeneratorStats stats = generator.stats();
      assertThat(stats.failed()).isEqualTo(1);
      assertThat(stats.completed()).isEqualTo(3);
      // The loop carries on.
      assertThat(await(generator.submit(request("after", PROMPTS.get(0), DecodingParams.greedy(10)))).tokenIds())
          .isEqualTo(alone.get(0).tokenIds());
    }
  }
}
