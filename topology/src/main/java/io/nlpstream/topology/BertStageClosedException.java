package io.nlpstream.topology;

/**
 * The {@link BertStage} was closed while a stream task still used it: a shutdown-order error, not a
 * property of any record. The dead-letter handler fails the task on it (no dead letter), so the
 * records in flight stay in the buffer store and are processed by the next run.
 */
public final class BertStageClosedException extends StageClosedException {

  public BertStageClosedException(String message) {
    super(message);
  }
}
