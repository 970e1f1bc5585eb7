package io.nlpstream.models.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {

  private final TokenSampler.Scratch scratch = new TokenSampler.Scratch();

  private long[] draw(DecodingParams params, float[] logits, int n) {
    TokenSampler sampler = new TokenSampler(params);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = sampler.next(FloatBuffer.wrap(logits), 0, logits.length, scratch);
    }
    return out;
  }

  @Test
  void greedyTakesTheHighestLogitAndTheLowestIdOnTies() {
    assertThat(draw(DecodingParams.greedy(1), new float[] {0, 3, 1, 3}, 1)).containsExactly(1);
    // An offset into a batch's logits buffer.
    float[] two = {9, 0, 0, 0, 1, 2};
    assertThat(new TokenSampler(DecodingParams.greedy(1)).next(FloatBuffer.wrap(two), 3, 3, scratch)).isEqualTo(2);
  }

  @Test
  void theSameSeedGivesTheSameDrawsAndAnotherSeedOthers() {
    float[] logits = new float[50];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) Math.sin(i);
    }
    DecodingParams p = DecodingParams.sampling(1, 1.0, 0, 1.0, 42);
    assertThat(draw(p, logits, 100)).containsExactly(draw(p, logits, 100));
    assertThat(draw(p, logits, 100)).isNotEqualTo(draw(DecodingParams.sampling(1, 1.0, 0, 1.0, 43), logits, 100));
  }

  @Test
  void samplingFollowsTheSoftmax() {
    float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
    long[] draws = draw(DecodingParams.sampling(1, 1.0, 0, 1.0, 7), logits, 20_000);
    int[] counts = new int[3];
    for (long d : draws) {
      counts[(int) d]++;
    }
    assertThat(counts[0] / 20_000.0).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.02));
    assertThat(counts[1] / 20_000.0).isCloseTo(0.3, org.assertj.core.data.Offset.offset(0.02));
    assertThat(counts[2] / 20_000.0).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.02));
  }

  @Test
  void topKAndTopPRestrictTheCandidates() {
    float[] logits = new float[200];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = i % 7 == 0 ? 5f : 0f; // ids 0, 7, 14, ... share the top
    }
    Set<Long> topK = new HashSet<>();
    for (long d : draw(DecodingParams.sampling(1, 1.0, 3, 1.0, 1), logits, 2_000)) {
      topK.add(d);
    }
    assertThat(topK).containsExactlyInAnyOrder(0L, 7L, 14L); // ties broken by id

    float[] peaked = new float[300];
    peaked[123] = 10f;
    peaked[45] = 9f;
    for (long d : draw(DecodingParams.sampling(1, 1.0, 0, 0.5, 1), peaked, 500)) {
      assertThat(d).isEqualTo(123); // alone it holds > 50% of the mass
    }
    Set<Long> nucleus = new HashSet<>();
    for (long d : draw(DecodingParams.sampling(1, 1.0, 0, 0.999, 1), peaked, 2_000)) {
      nucleus.add(d);
    }
    assertThat(nucleus).contains(123L, 45L).hasSizeGreaterThan(2);
    // Low temperature sharpens towards greedy.
    for (long d : draw(DecodingParams.sampling(1, 0.05, 0, 1.0, 3), peaked, 200)) {
      assertThat(d).isEqualTo(123);
    }
  }

  @Test
  void parametersAreValidated() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DecodingParams.sampling(5, 0, 0, 1, 1))
        .hasMessageContaining("temperature > 0");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DecodingParams.greedy(0))
        .hasMessageContaining("max_new_tokens");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DecodingParams.sampling(5, 1, 0, 1.5, 1))
        .hasMessageContaining("top_p");
  }
}
