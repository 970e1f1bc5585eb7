package io.nlpstream.topology;

/**
 * Counts dead letters by reason: what the {@link DeadLetterHandler} needs of a stage's counters
 * ({@link PipelineCounters} of the BERT stage, {@link GenerationCounters} of the GPT stage).
 * Implementations are thread-safe.
 */
public interface DeadLetterCounter {

  void deadLetter(DeadLetterReason reason);
}
