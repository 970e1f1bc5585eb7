package io.nlpstream.models.bert;

/** Numerically stable softmax over slices of a flat logits array. */
final class Softmax {

  private Softmax() {}

  /** Softmax of {@code logits[offset .. offset + length)}. */
  static float[] of(float[] logits, int offset, int length) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < length; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    double[] exp = new double[length];
    double sum = 0;
    for (int i = 0; i < length; i++) {
      exp[i] = Math.exp(logits[offset + i] - max);
      sum += exp[i];
    }
    float[] probs = new float[length];
    for (int i = 0; i < length; i++) {
      probs[i] = (float) (exp[i] / sum);
    }
    return probs;
  }
}
