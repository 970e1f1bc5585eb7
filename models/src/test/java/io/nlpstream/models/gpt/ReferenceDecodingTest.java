package io.nlpstream.models.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ONNX export, DJL's tokenization and the Java decoding loop against an independent
 * implementation: PyTorch's greedy decoding of the same weights (full recomputation), recorded by
 * the fixture script in reference.json.
 */
class ReferenceDecodingTest {

  static java.util.stream.Stream<String> models() {
    return GptFixtures.models();
  }

  @ParameterizedTest
  @MethodSource("models")
  void tokenizerMatchesTheScriptsBpeEncoder(String model) {
    JsonNode ref = GptFixtures.reference(model);
    try (DecoderTokenizer tokenizer = DecoderTokenizer.open(GptFixtures.dir(model).resolve("tokenizer.json"))) {
      for (JsonNode r : ref.get("references")) {
        assertThat(tokenizer.encodePrompt(r.get("text").asText()))
            .as("prompt ids of '%s'", r.get("text").asText())
            .containsExactly(longs(r.get("prompt_ids")));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void greedyDecodingReproducesPyTorchBatchedAndCached(String model) {
    JsonNode ref = GptFixtures.reference(model);
    int maxNew = ref.get("max_new_tokens").asInt();
    try (Generator generator = GptFixtures.open(model, GptFixtures.rawOptions().maxBatchSize(8).build())) {
      List<CompletableFuture<Generation>> futures = new ArrayList<>();
      for (JsonNode r : ref.get("references")) {
        futures.add(generator.submit(GptFixtures.request(r.get("text").asText(), r.get("text").asText(),
            DecodingParams.greedy(maxNew))));
      }
      List<Generation> results = GptFixtures.awaitAll(futures);
      int i = 0;
      for (JsonNode r : ref.get("references")) {
        Generation g = results.get(i++);
        assertThat(g.promptTokens()).isEqualTo(r.get("prompt_ids").size());
        assertThat(g.tokenIds()).as("greedy ids after '%s'", r.get("text").asText())
            .containsExactly(boxed(r.get("greedy_ids")));
      }
    }
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  static Long[] boxed(JsonNode array) {
    Long[] out = new Long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}
