package io.nlpstream.models.gpt;

/**
 * Counters of one {@link Generator} since it started.
 *
 * @param submitted     requests accepted by {@code submit}
 * @param completed     requests whose future completed normally
 * @param failed        requests whose future completed exceptionally (cancellations included)
 * @param decodeSteps   decoder calls that advanced the running batch by one token
 * @param decodedRows   sum over decode steps of the sequences in the step (mean batch = rows / steps)
 * @param prefills      prefill calls (one per admission round)
 * @param prefillRows   sequences prefilled
 * @param generated     tokens generated
 * @param prefillNanos  wall time spent in prefill calls of the decoder
 * @param decodeNanos   wall time spent in decode-step calls of the decoder (with the KV cache off:
 *                      the full recomputations)
 * @param running       sequences in the running batch now
 * @param waiting       requests waiting for admission now
 */
public record GeneratorStats(
    long submitted,
    long completed,
    long failed,
    long decodeSteps,
    long decodedRows,
    long prefills,
    long prefillRows,
    long generated,
    long prefillNanos,
    long decodeNanos,
    int running,
    int waiting) {

  /** Mean sequences per decode step; 0 before the first step. */
  public double meanBatchSize() {
    return decodeSteps == 0 ? 0 : (double) decodedRows / decodeSteps;
  }
}
