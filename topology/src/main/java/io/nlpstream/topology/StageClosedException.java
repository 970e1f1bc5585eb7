package io.nlpstream.topology;

/**
 * A process-wide stage (the BERT batcher, the GPT generator) was closed while a stream task still
 * used it: a shutdown-order error, not a property of any record. The dead-letter handler fails the
 * task on it (no dead letter), so the records in flight stay in their buffer store and are processed
 * by the next run.
 */
public class StageClosedException extends RuntimeException {

  public StageClosedException(String message) {
    super(message);
  }
}
