package io.nlpstream.models.gpt;

import java.util.List;

/**
 * How to pick tokens for one request.
 *
 * <p>{@code temperature == 0} is greedy decoding (the highest logit; ties go to the lowest id).
 * Otherwise tokens are sampled from {@code softmax(logits / temperature)}, restricted to the
 * {@code topK} most likely tokens ({@code 0} = no limit) and then to the smallest set whose
 * probability reaches {@code topP} ({@code 1.0} = no limit). Every request draws from its own
 * random stream seeded with {@code seed}, one draw per sampled token, so its output depends on
 * its prompt and parameters only, never on which other requests share the batch.
 *
 * @param maxNewTokens generated tokens at most (an EOS token counts as generated); {@code >= 1}
 * @param stopStrings  generation stops when the generated text contains one of these; the text is
 *                     cut before it. Added to the template's stop strings.
 * @param temperature  {@code 0} for greedy, else {@code > 0}
 * @param topK         {@code >= 0}
 * @param topP         in {@code (0, 1]}
 * @param seed         seed of this request's random stream (ignored when greedy)
 */
public record DecodingParams(
    int maxNewTokens, List<String> stopStrings, double temperature, int topK, double topP, long seed) {

  public DecodingParams {
    stopStrings = List.copyOf(stopStrings);
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("max_new_tokens must be >= 1, was " + maxNewTokens);
    }
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0 and finite, was " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0, was " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], was " + topP);
    }
    for (String stop : stopStrings) {
      if (stop.isEmpty()) {
        throw new IllegalArgumentException("a stop string must not be empty");
      }
    }
  }

  /** Greedy decoding of at most {@code maxNewTokens} tokens, no stop strings. */
  public static DecodingParams greedy(int maxNewTokens) {
    return new DecodingParams(maxNewTokens, List.of(), 0, 0, 1.0, 0);
  }

  /** Sampling with temperature, top-k and top-p, seeded. */
  public static DecodingParams sampling(int maxNewTokens, double temperature, int topK, double topP, long seed) {
    if (temperature <= 0) {
      throw new IllegalArgumentException("sampling needs temperature > 0, was " + temperature);
    }
    return new DecodingParams(maxNewTokens, List.of(), temperature, topK, topP, seed);
  }

  /** A copy with these stop strings. */
  public DecodingParams withStopStrings(List<String> stops) {
    return new DecodingParams(maxNewTokens, stops, temperature, topK, topP, seed);
  }

  public boolean isGreedy() {
    return temperature == 0;
  }
}
