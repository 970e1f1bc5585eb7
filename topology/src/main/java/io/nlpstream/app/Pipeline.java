package io.nlpstream.app;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.ops.Observability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The stages one process runs ({@code nlpstream run --stage bert|gpt|all}): the BERT stage
 * ({@link EnrichmentApp}), the GPT stage ({@link GenerationApp}), or both, each with its own Kafka
 * Streams client and application id. Running when all are running; terminated as soon as one stops
 * (a supervisor then restarts the process); closing closes each, the GPT stage first.
 */
public final class Pipeline implements StreamsService {

  /** Which stages to run. */
  public enum Stages {
    BERT, GPT, ALL;

    public boolean bert() {
      return this != GPT;
    }

    public boolean gpt() {
      return this != BERT;
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final List<StreamsService> services;
  private final CompletableFuture<Void> running;
  private final CompletableFuture<KafkaStreams.State> terminated = new CompletableFuture<>();
  private final EnrichmentApp enrichment;
  private final GenerationApp generation;

  private Pipeline(EnrichmentApp enrichment, GenerationApp generation) {
    this.enrichment = enrichment;
    this.generation = generation;
    this.services = new ArrayList<>();
    if (generation != null) {
      services.add(generation);
    }
    if (enrichment != null) {
      services.add(enrichment);
    }
    this.running = CompletableFuture.allOf(services.stream().map(StreamsService::running)
        .toArray(CompletableFuture[]::new));
    services.forEach(s -> s.terminated().thenAccept(terminated::complete));
  }

  /**
   * Starts the selected stages (the BERT stage first: it creates the shared topics), registering
   * their meters ({@code stage=bert}, {@code stage=gpt}) and health components ({@code bert.*},
   * {@code gpt.*}) in {@code observability}, which the caller owns and closes after the pipeline: its
   * {@code /ready} is then ready when every stage started here runs and has its models loaded.
   *
   * @throws org.apache.kafka.common.config.ConfigException as the stages' {@code start}
   * @throws io.nlpstream.models.runtime.ModelLoadException as the stages' {@code start}
   */
  public static Pipeline start(NlpstreamConfig config, Stages stages, Observability observability) {
    EnrichmentApp enrichment = stages.bert() ? EnrichmentApp.start(config, observability) : null;
    try {
      GenerationApp generation = stages.gpt() ? GenerationApp.start(config, observability) : null;
      return new Pipeline(enrichment, generation);
    } catch (RuntimeException e) {
      if (enrichment != null) {
        try {
          enrichment.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** The BERT stage, or null when not run here. */
  public EnrichmentApp enrichment() {
    return enrichment;
  }

  /** The GPT stage, or null when not run here. */
  public GenerationApp generation() {
    return generation;
  }

  @Override
  public CompletableFuture<Void> running() {
    return running;
  }

  @Override
  public CompletableFuture<KafkaStreams.State> terminated() {
    return terminated;
  }

  /** Closes every stage, each even if another fails (the first failure is thrown). Idempotent. */
  @Override
  public void close() {
    RuntimeException failure = null;
    for (StreamsService s : services) {
      failure = EnrichmentApp.closeStep("stage", s::close, failure);
    }
    if (failure != null) {
      throw failure;
    }
  }
}
