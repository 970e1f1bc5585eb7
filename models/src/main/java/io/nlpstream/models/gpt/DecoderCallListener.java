package io.nlpstream.models.gpt;

/**
 * Told about every call a {@link Generator} makes to its decoder, for metrics: the continuous
 * batch's size and the decoder's time per call. Called on the generator's decoding thread after
 * the call returned: keep it cheap and non-blocking, and thread-safe towards readers on other
 * threads. An exception it throws is logged and otherwise ignored (a metrics bug must not stop
 * generation).
 */
@FunctionalInterface
public interface DecoderCallListener {

  /** Listens to nothing. */
  DecoderCallListener NONE = (phase, sequences, tokens, paddedTokens, nanos) -> { };

  /** What a decoder call did. */
  enum Phase {
    /** Prompts of newly admitted sequences, over an empty past (one call per admission round). */
    PREFILL,
    /**
     * One token for every running sequence: a step over the KV cache, or, with the cache off, a
     * full recomputation of every sequence.
     */
    DECODE
  }

  /**
   * @param phase        prefill or decode step
   * @param sequences    sequences in the call (the batch size)
   * @param tokens       real tokens fed: the prompts' tokens for a prefill, one per sequence for a
   *                     decode step over the cache, every sequence's tokens for a full recomputation
   * @param paddedTokens sequences x longest input: what the decoder computed
   * @param nanos        wall time of the call
   */
  void onCall(Phase phase, int sequences, int tokens, int paddedTokens, long nanos);
}
