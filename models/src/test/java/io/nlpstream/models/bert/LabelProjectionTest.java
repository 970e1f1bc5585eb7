package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class LabelProjectionTest {

  @Test
  void projectedSoftmaxIsTheSumOfTheMappedProbabilities() {
    // Model labels: B-DATE, O, B-PER, I-DATE -> contract O, B-PER (dates are outside).
    LabelProjection p = new LabelProjection(List.of("O", "B-PER"), new int[] {0, 0, 1, 0});
    float[] logits = {1f, 2f, 3f, -1f, /* row 2 */ 0f, 0f, 0f, 0f};
    float[] projected = p.apply(logits, 2);
    assertThat(projected).hasSize(4);
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(-1);
    float[] row1 = Softmax.of(projected, 0, 2);
    assertThat((double) row1[0]).isCloseTo((Math.exp(1) + Math.exp(2) + Math.exp(-1)) / z, within(1e-6));
    assertThat((double) row1[1]).isCloseTo(Math.exp(3) / z, within(1e-6));
    float[] row2 = Softmax.of(projected, 2, 2);
    assertThat((double) row2[0]).isCloseTo(0.75, within(1e-6));
  }

  @Test
  void aContractLabelNoModelLabelMapsToGetsProbabilityZero() {
    LabelProjection p = new LabelProjection(List.of("O", "B-PER", "I-PER"), new int[] {0, 2});
    float[] probs = Softmax.of(p.apply(new float[] {0.5f, 1.5f}, 1), 0, 3);
    assertThat(probs[1]).isZero();
    assertThat((double) probs[0] + probs[2]).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void theIdentityReturnsTheLogitsAsTheyAre() {
    LabelProjection p = new LabelProjection(List.of("a", "b"), new int[] {0, 1});
    float[] logits = {1f, 2f};
    assertThat(p.apply(logits, 1)).isSameAs(logits);
  }

  @Test
  void shapesAndIndicesAreChecked() {
    assertThatThrownBy(() -> new LabelProjection(List.of("a"), new int[] {1})).hasMessageContaining("outside");
    LabelProjection p = new LabelProjection(List.of("a", "b"), new int[] {1, 0, 0});
    assertThatThrownBy(() -> p.apply(new float[4], 2)).hasMessageContaining("not 2 rows of 3");
  }
}
