package io.nlpstream.models.gpt;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from its logits, per {@link DecodingParams}.
 *
 * <p>Reproducibility: each sequence owns its random stream ({@link SplittableRandom} seeded with
 * the request's seed, whose output is specified and stable across JVMs) and draws exactly one
 * number per sampled token, so a request's tokens depend only on its own logits, which do not
 * depend on the batch it runs in. Candidates are ordered by logit, ties by token id, so the
 * choice does not depend on iteration order either.
 *
 * <p>Not thread-safe: used by the decoding loop only. The scratch arrays are shared across
 * sequences through {@link Scratch}, which the loop owns.
 */
final class TokenSampler {

  /** Reusable per-loop working memory (vocab-sized arrays). */
  static final class Scratch {
    private float[] logits = new float[0];
    private int[] heap = new int[0];
    private double[] weights = new double[0];

    float[] logits(int vocab) {
      if (logits.length < vocab) {
        logits = new float[vocab];
      }
      return logits;
    }

    int[] heap(int n) {
      if (heap.length < n) {
        heap = new int[n];
      }
      return heap;
    }

    double[] weights(int n) {
      if (weights.length < n) {
        weights = new double[n];
      }
      return weights;
    }
  }

  // First guess at the nucleus size for top-p; doubled until the nucleus is covered.
  private static final int NUCLEUS_GUESS = 64;

  private final DecodingParams params;
  private final SplittableRandom random;

  TokenSampler(DecodingParams params) {
    this.params = params;
    this.random = params.isGreedy() ? null : new SplittableRandom(params.seed());
  }

  /** The next token from {@code vocab} logits starting at {@code offset} in {@code logits}. */
  long next(FloatBuffer logits, int offset, int vocab, Scratch scratch) {
    float[] row = scratch.logits(vocab);
    logits.get(offset, row, 0, vocab);
    if (random == null) {
      return argmax(row, vocab);
    }
    double invTemperature = 1.0 / params.temperature();
    float max = row[argmax(row, vocab)];
    int limit = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
    if (limit == vocab && params.topP() >= 1.0) {
      // Plain temperature sampling: no ordering needed, walk the ids in order.
      double[] w = scratch.weights(vocab);
      double total = 0;
      for (int i = 0; i < vocab; i++) {
        w[i] = Math.exp((row[i] - max) * invTemperature);
        total += w[i];
      }
      double u = random.nextDouble() * total;
      for (int i = 0; i < vocab; i++) {
        u -= w[i];
        if (u < 0) {
          return i;
        }
      }
      return vocab - 1;
    }
    if (limit < vocab) {
      // Top-k first, then top-p within the renormalized top-k (the order Hugging Face applies them).
      int[] top = top(row, vocab, limit, scratch);
      double total = 0;
      for (int id : top) {
        total += Math.exp((row[id] - max) * invTemperature);
      }
      return sampleNucleus(row, top, top.length, max, invTemperature, total, scratch);
    }
    // Top-p alone: the nucleus is usually small, so find the best few first and widen as needed.
    double total = 0;
    for (int i = 0; i < vocab; i++) {
      total += Math.exp((row[i] - max) * invTemperature);
    }
    for (int n = Math.min(NUCLEUS_GUESS, vocab); ; n = Math.min(vocab, n * 2)) {
      int[] top = top(row, vocab, n, scratch);
      double mass = 0;
      for (int id : top) {
        mass += Math.exp((row[id] - max) * invTemperature);
      }
      if (n == vocab || mass >= params.topP() * total) {
        return sampleNucleus(row, top, n, max, invTemperature, total, scratch);
      }
    }
  }

  /**
   * Samples among the best candidates {@code sorted[0..n)} (best first) that make up the smallest
   * prefix reaching {@code topP} of {@code total}.
   */
  private long sampleNucleus(float[] row, int[] sorted, int n, float max, double invTemperature, double total,
                             Scratch scratch) {
    double[] w = scratch.weights(n);
    double mass = 0;
    int cut = n;
    for (int i = 0; i < n; i++) {
      w[i] = Math.exp((row[sorted[i]] - max) * invTemperature);
      mass += w[i];
      if (mass >= params.topP() * total) {
        cut = i + 1;
        break;
      }
    }
    double kept = 0;
    for (int i = 0; i < cut; i++) {
      kept += w[i];
    }
    double u = random.nextDouble() * kept;
    for (int i = 0; i < cut; i++) {
      u -= w[i];
      if (u < 0) {
        return sorted[i];
      }
    }
    return sorted[cut - 1];
  }

  /** Highest logit; the lowest id among equals. */
  static int argmax(float[] row, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) {
      if (row[i] > row[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Ids of the {@code n} highest logits, best first (ties: lower id first). */
  private static int[] top(float[] row, int vocab, int n, Scratch scratch) {
    // Min-heap of the best n seen so far; its root is the worst of them.
    int[] heap = scratch.heap(n);
    int size = 0;
    for (int id = 0; id < vocab; id++) {
      if (size < n) {
        heap[size] = id;
        siftUp(heap, size++, row);
      } else if (better(id, heap[0], row)) {
        heap[0] = id;
        siftDown(heap, size, row);
      }
    }
    int[] sorted = new int[size];
    for (int i = size - 1; i >= 0; i--) {
      sorted[i] = heap[0];
      heap[0] = heap[--size];
      siftDown(heap, size, row);
    }
    return sorted;
  }

  private static boolean better(int a, int b, float[] row) {
    return row[a] > row[b] || (row[a] == row[b] && a < b);
  }

  private static void siftUp(int[] heap, int i, float[] row) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (!better(heap[parent], heap[i], row)) {
        return;
      }
      swap(heap, i, parent);
      i = parent;
    }
  }

  private static void siftDown(int[] heap, int size, float[] row) {
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int r = l + 1;
      int worst = i;
      if (l < size && better(heap[worst], heap[l], row)) {
        worst = l;
      }
      if (r < size && better(heap[worst], heap[r], row)) {
        worst = r;
      }
      if (worst == i) {
        return;
      }
      swap(heap, i, worst);
      i = worst;
    }
  }

  private static void swap(int[] a, int i, int j) {
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
