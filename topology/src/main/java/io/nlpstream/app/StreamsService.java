package io.nlpstream.app;

import java.util.concurrent.CompletableFuture;
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

  /** Closes everything the service opened; idempotent; callable from any thread. */
  @Override
  void close();
}
