package io.nlpstream.models.batch;

import java.time.Duration;

/**
 * Bounds of one inference batch and of the waiting queue.
 *
 * @param maxBatchTokens  padded tokens per batch (batch size x longest sequence); the main bound,
 *                        right for CPU and GPU alike
 * @param maxBatchSize    sequences per batch, on top of the token budget
 * @param maxWait         latency bound: the oldest waiting item is inferred at the latest this long
 *                        after it arrived, full batch or not
 * @param maxQueuedTokens backpressure: {@code submit} blocks while this many tokens wait
 * @param maxPaddingRatio padded tokens / real tokens of a batch at most (>= 1; infinity = no bound):
 *                        see {@link TokenBudget#partition(java.util.List, java.util.function.ToIntFunction, int, int, double)}
 */
public record BatchPolicy(int maxBatchTokens, int maxBatchSize, Duration maxWait, int maxQueuedTokens,
                          double maxPaddingRatio) {

  /** A policy without a padding bound. */
  public BatchPolicy(int maxBatchTokens, int maxBatchSize, Duration maxWait, int maxQueuedTokens) {
    this(maxBatchTokens, maxBatchSize, maxWait, maxQueuedTokens, Double.POSITIVE_INFINITY);
  }

  public BatchPolicy {
    if (maxBatchTokens < 1) {
      throw new IllegalArgumentException("maxBatchTokens must be >= 1, was " + maxBatchTokens);
    }
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, was " + maxBatchSize);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
    }
    if (!(maxPaddingRatio >= 1)) {
      throw new IllegalArgumentException("maxPaddingRatio must be >= 1, was " + maxPaddingRatio);
    }
    if (maxQueuedTokens < maxBatchTokens) {
      throw new IllegalArgumentException(
          "maxQueuedTokens (" + maxQueuedTokens + ") must be >= maxBatchTokens (" + maxBatchTokens + ")");
    }
  }
}
