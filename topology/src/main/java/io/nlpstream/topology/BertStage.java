package io.nlpstream.topology;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.batch.BatchPolicy;
import io.nlpstream.models.batch.BatchingQueue;
import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.TextAnalyzer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InterruptException;

/**
 * The process-wide part of the BERT stage: one {@link BatchingQueue} in front of the analyzer,
 * shared by every stream task on every stream thread, so that texts of all partitions are batched
 * together and inference never runs concurrently with itself. Also owns the stage's
 * {@link PipelineCounters} (its meters in the process's registry).
 *
 * <p>Ownership: the stage owns its queue (and the queue's worker thread); it does <em>not</em> own
 * the analyzer, which its creator closes after closing the stage. Close the Kafka Streams instance
 * before the stage: a task that finds the stage closed fails rather than dead-lettering good records.
 *
 * <p>Thread-safe.
 */
public final class BertStage implements AutoCloseable {

  /** The stage's name: the {@code stage} tag of its meters, the prefix of its health components. */
  public static final String NAME = "bert";

  private final TextAnalyzer analyzer;
  private final String modelId;
  private final Map<String, String> models;
  private final PipelineCounters counters;
  private final BatchingQueue<String, Analysis> queue;

  private BertStage(TextAnalyzer analyzer, String modelId, BatchPolicy policy, MeterRegistry registry) {
    this.analyzer = analyzer;
    this.modelId = modelId;
    this.models = Map.copyOf(analyzer.models());
    this.counters = new PipelineCounters(registry, NAME);
    this.queue = new BatchingQueue<>(NAME, policy, analyzer::tokenCount, analyzer::analyze, counters::batch);
    counters.trackQueued(queue::waitingItems);
    counters.modelInfo(models);
  }

  /**
   * {@link #start(TextAnalyzer, NlpstreamConfig, MeterRegistry)} with a registry of its own (tests,
   * tools that read {@link PipelineCounters#snapshot()} only).
   */
  public static BertStage start(TextAnalyzer analyzer, NlpstreamConfig config) {
    return start(analyzer, config, new SimpleMeterRegistry());
  }

  /**
   * Starts the batcher thread in front of {@code analyzer}, with the policy of the {@code batch.*}
   * keys, and registers the stage's meters ({@code stage=bert}) in {@code registry}.
   *
   * @throws ConfigException when the batch keys are inconsistent (names the keys)
   */
  public static BertStage start(TextAnalyzer analyzer, NlpstreamConfig config, MeterRegistry registry) {
    Objects.requireNonNull(analyzer, "analyzer");
    Objects.requireNonNull(registry, "registry");
    return new BertStage(analyzer, config.getString(NlpstreamConfig.MODEL_BERT), batchPolicy(config), registry);
  }

  static BatchPolicy batchPolicy(NlpstreamConfig config) {
    int maxTokens = config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS);
    int maxQueued = config.getInt(NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS);
    if (maxQueued < maxTokens) {
      throw new ConfigException(NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS, maxQueued,
          "must be >= " + NlpstreamConfig.BATCH_MAX_TOKENS + " (" + maxTokens + ")");
    }
    return new BatchPolicy(maxTokens, config.getInt(NlpstreamConfig.BATCH_MAX_SIZE),
        Duration.ofMillis(config.getLong(NlpstreamConfig.BATCH_MAX_WAIT_MS)), maxQueued,
        config.getDouble(NlpstreamConfig.BATCH_MAX_PADDING_RATIO));
  }

  /**
   * Queues {@code text} for analysis. Blocks while {@code batch.max.queued.tokens} tokens wait: this
   * is the backpressure that slows the calling stream thread, and through it Kafka's poll loop.
   * The returned future completes on the batcher thread, exceptionally when the model failed on this text.
   *
   * @throws BertStageClosedException if the stage is closed
   * @throws InterruptException       if the calling thread is interrupted while blocked (interrupt flag kept)
   */
  public CompletableFuture<Analysis> submit(String text) {
    try {
      return queue.submit(text);
    } catch (CancellationException e) {
      throw new BertStageClosedException("BERT stage (model " + modelId + ") is closed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException("interrupted while waiting for room in the BERT batcher", e);
    }
  }

  /** Catalogue id of the BERT model ({@value NlpstreamConfig#MODEL_BERT}). */
  public String modelId() {
    return modelId;
  }

  /** Model ids and versions by role, as the analyzer reports them. */
  public Map<String, String> models() {
    return models;
  }

  public PipelineCounters counters() {
    return counters;
  }

  /** Texts waiting for the batcher (not yet taken into a batch). */
  public int waitingTexts() {
    return queue.waitingItems();
  }

  /** True until {@link #close()}, unless the batcher thread died (then no submitted text would complete). */
  public boolean isRunning() {
    return queue.isRunning();
  }

  /**
   * Stops the batcher (texts still waiting are cancelled) and removes the stage's meters from the
   * registry; the analyzer stays open. Idempotent.
   */
  @Override
  public void close() {
    try {
      queue.close();
    } finally {
      counters.close();
    }
  }

  @Override
  public String toString() {
    return "BertStage[" + modelId + ", analyzer=" + analyzer.getClass().getSimpleName() + "]";
  }
}
