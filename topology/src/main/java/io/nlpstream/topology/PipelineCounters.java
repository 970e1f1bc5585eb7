package io.nlpstream.topology;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counts of the BERT stage: records in, enriched, routed, dead-lettered by reason, and
 * the batches the batcher ran. Owned by {@link BertStage}; every stream task and the dead-letter
 * handler count into the same instance.
 *
 * <p>Thread-safe (lock-free adders). Counts are of records <em>handled</em> by this process: under
 * exactly-once a record whose transaction aborts is processed again and counted again.
 */
public final class PipelineCounters implements DeadLetterCounter {

  private final LongAdder in = new LongAdder();
  private final LongAdder enriched = new LongAdder();
  private final LongAdder gptRequests = new LongAdder();
  private final Map<DeadLetterReason, LongAdder> deadLetters = new EnumMap<>(DeadLetterReason.class);
  private final LongAdder batches = new LongAdder();
  private final LongAdder batchedItems = new LongAdder();
  private final LongAdder batchedTokens = new LongAdder();
  private final LongAdder paddedTokens = new LongAdder();
  private final LongAdder inferenceNanos = new LongAdder();

  public PipelineCounters() {
    for (DeadLetterReason r : DeadLetterReason.values()) {
      deadLetters.put(r, new LongAdder());  // filled once here, read-only afterwards: safe to share
    }
  }

  void recordIn() {
    in.increment();
  }

  void enriched() {
    enriched.increment();
  }

  void gptRequest() {
    gptRequests.increment();
  }

  @Override
  public void deadLetter(DeadLetterReason reason) {
    deadLetters.get(reason).increment();
  }

  void batch(int size, int tokens, int padded, long nanos) {
    batches.increment();
    batchedItems.add(size);
    batchedTokens.add(tokens);
    paddedTokens.add(padded);
    inferenceNanos.add(nanos);
  }

  /** A consistent-enough copy for printing (each count is read atomically, not all together). */
  public Snapshot snapshot() {
    Map<String, Long> dl = new LinkedHashMap<>();
    deadLetters.forEach((reason, n) -> {
      long v = n.sum();
      if (v > 0) {
        dl.put(reason.code(), v);
      }
    });
    return new Snapshot(in.sum(), enriched.sum(), gptRequests.sum(), Map.copyOf(dl), batches.sum(),
        batchedItems.sum(), batchedTokens.sum(), paddedTokens.sum(), inferenceNanos.sum());
  }

  /**
   * @param in             input records read (parse step)
   * @param enriched       enriched records forwarded
   * @param gptRequests    GPT requests forwarded
   * @param deadLetters    dead letters by reason code (reasons with a zero count omitted)
   * @param batches        inference batches run
   * @param batchedItems   texts in those batches
   * @param batchedTokens  their tokens
   * @param paddedTokens   batch size x longest, summed: what the encoder computed
   * @param inferenceNanos time spent in the analyzer
   */
  public record Snapshot(long in, long enriched, long gptRequests, Map<String, Long> deadLetters, long batches,
                         long batchedItems, long batchedTokens, long paddedTokens, long inferenceNanos) {

    public long deadLettersTotal() {
      return deadLetters.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT,
          "in=%d enriched=%d gpt_requests=%d dead_letters=%d %s batches=%d (mean size %.1f, padding %.0f%%)",
          in, enriched, gptRequests, deadLettersTotal(), deadLetters, batches,
          batches == 0 ? 0.0 : (double) batchedItems / batches,
          paddedTokens == 0 ? 0.0 : 100.0 * (paddedTokens - batchedTokens) / paddedTokens);
    }
  }
}
