package io.nlpstream.models.bert;

import java.util.Arrays;
import java.util.List;

/**
 * Maps a model's labels onto the labels of the {@link Analysis} contract, several model labels
 * possibly onto one (e.g. {@code B-DATE} onto {@code O}, or "1 star" and "2 stars" onto {@code
 * negative}). Logits are projected with log-sum-exp, so that the softmax of a projected row gives
 * each contract label the <em>sum</em> of the probabilities of the model labels mapped to it. A
 * contract label no model label maps to gets probability 0.
 *
 * <p>Immutable and thread-safe.
 */
public final class LabelProjection {

  private final List<String> targets;
  private final int[] targetOf;
  private final boolean identity;

  /**
   * @param targets  contract labels in the order of the projected logits
   * @param targetOf {@code targetOf[i]} = index into {@code targets} of model label {@code i}
   */
  public LabelProjection(List<String> targets, int[] targetOf) {
    this.targets = List.copyOf(targets);
    this.targetOf = targetOf.clone();
    boolean same = targetOf.length == targets.size();
    for (int i = 0; i < targetOf.length; i++) {
      if (targetOf[i] < 0 || targetOf[i] >= targets.size()) {
        throw new IllegalArgumentException("model label " + i + " maps to " + targetOf[i] + ", outside "
            + this.targets);
      }
      same &= targetOf[i] == i;
    }
    this.identity = same;
  }

  /** The contract labels, in projected order. */
  public List<String> targets() {
    return targets;
  }

  /** Number of model labels (the width of a logits row before projection). */
  public int sources() {
    return targetOf.length;
  }

  /** Projects {@code rows} rows of {@link #sources()} logits; returns rows of {@code targets().size()}. */
  public float[] apply(float[] logits, int rows) {
    int n = targetOf.length;
    if (logits.length != rows * n) {
      throw new IllegalArgumentException(logits.length + " logits are not " + rows + " rows of " + n);
    }
    if (identity) {
      return logits;
    }
    int m = targets.size();
    float[] out = new float[rows * m];
    float[] max = new float[m];
    double[] sum = new double[m];
    for (int r = 0; r < rows; r++) {
      Arrays.fill(max, Float.NEGATIVE_INFINITY);
      Arrays.fill(sum, 0);
      for (int i = 0; i < n; i++) {
        max[targetOf[i]] = Math.max(max[targetOf[i]], logits[r * n + i]);
      }
      for (int i = 0; i < n; i++) {
        sum[targetOf[i]] += Math.exp(logits[r * n + i] - max[targetOf[i]]);
      }
      for (int j = 0; j < m; j++) {
        out[r * m + j] = sum[j] == 0 ? Float.NEGATIVE_INFINITY : (float) (max[j] + Math.log(sum[j]));
      }
    }
    return out;
  }
}
