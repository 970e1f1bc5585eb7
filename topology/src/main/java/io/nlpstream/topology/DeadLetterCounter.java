package io.nlpstream.topology;

/**
 * What the {@link DeadLetterHandler} needs of a stage's meters: count a dead letter, and name the
 * stage for the logging context ({@link PipelineCounters} of either stage, or the GPT stage's
 * {@link GenerationCounters} over them). Implementations are thread-safe.
 */
public interface DeadLetterCounter {

  /** One record sent to the dead-letter topic, refused by {@code step} for {@code reason}. */
  void deadLetter(DeadLetterReason reason, Stage step);

  /** The pipeline stage counted ({@code bert}, {@code gpt}). */
  String stage();
}
