package io.nlpstream.topology;

/**
 * The {@link GptStage} or its generator was closed while a stream task still used it: a shutdown-order
 * error, not a property of any request. The task fails (no dead letter); the requests in flight stay
 * in its buffer store for the next run.
 */
public final class GptStageClosedException extends StageClosedException {

  public GptStageClosedException(String message) {
    super(message);
  }
}
