package io.nlpstream.app;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.streams.KafkaStreams;

/**
 * A stage of the pipeline running as its own Kafka Streams client ({@link EnrichmentApp},
 * {@link GenerationApp}) or several of them in one process ({@link Pipeline}).
 */
public interface StreamsService extends AutoCloseable {

  /** Completes when the service is RUNNING for the first time (partitions assigned, state restored). */
  CompletableFuture<Void> running();

  /** Completes with ERROR or NOT_RUNNING once the service has stopped, for whatever reason. */
  CompletableFuture<KafkaStreams.State> terminated();

  /**
   * Waits until {@link #running()} completes.
   *
   * @throws IllegalStateException if the service stops first or does not get there in time (the
   *                               message ends with {@link #notRunningHint()})
   */
  default void awaitRunning(Duration timeout) {
    try {
      CompletableFuture.anyOf(running(), terminated()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka Streams not RUNNING after " + timeout + notRunningHint(), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for Kafka Streams", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kafka Streams", e);
    }
    if (!running().isDone()) {
      throw new IllegalStateException("Kafka Streams stopped in state " + terminated().getNow(null) + " before running");
    }
  }

  /** Appended to the timeout message of {@link #awaitRunning}: what to check. Empty by default. */
  default String notRunningHint() {
    return "";
  }

  /** Closes everything the service opened; idempotent; callable from any thread. */
  @Override
  void close();
}
