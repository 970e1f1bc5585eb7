package io.nlpstream.app;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.topology.GenerationTopology;
import io.nlpstream.topology.GptStage;
import io.nlpstream.topology.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPT stage of one process, wired from one {@link NlpstreamConfig}: the generator from the model
 * catalogue ({@code gpt.model}), the {@link GptStage}, the {@link GenerationTopology} and its own
 * {@link KafkaStreams} client under {@code gpt.application.id}, separate from the BERT stage's, so
 * that the two scale apart ({@code nlpstream run --stage gpt} on GPU nodes, {@code --stage bert}
 * elsewhere) or run side by side in one process ({@code --stage all}).
 *
 * <p>Threads: generation runs on the generator's one decoding thread (continuous batching over all
 * partitions), whose ONNX Runtime session uses {@code inference.intra.op.threads}; stream threads
 * only parse, buffer and forward. In one process with the BERT stage both inference threads share
 * the cores.
 *
 * <p>Failure policy and ownership as {@link EnrichmentApp}: the app owns what it creates and closes
 * it in the order streams, stage, generator. {@link #close()} logs the stage's counters and the
 * generator's, and is idempotent and callable from any thread.
 */
public final class GenerationApp implements StreamsService {

  private static final Logger LOG = LoggerFactory.getLogger(GenerationApp.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

  private final Generator generator;
  private final GptStage stage;
  private final KafkaStreams streams;
  private final CompletableFuture<Void> running = new CompletableFuture<>();
  private final CompletableFuture<KafkaStreams.State> terminated = new CompletableFuture<>();
  private boolean closed;

  private GenerationApp(Generator generator, GptStage stage, KafkaStreams streams) {
    this.generator = generator;
    this.stage = stage;
    this.streams = streams;
  }

  /**
   * Checks the configuration, creates the missing topics, loads the generator and starts Kafka
   * Streams. Returns without waiting for RUNNING.
   *
   * @throws ConfigException when {@code bootstrap.servers} is empty, a {@code gpt.*} key is
   *                         inconsistent with the model, or the topics cannot be created
   * @throws io.nlpstream.models.runtime.ModelLoadException when the model is unknown, or a file is
   *                                                        missing or corrupt
   */
  public static GenerationApp start(NlpstreamConfig config) {
    String bootstrap = config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS);
    if (bootstrap.isBlank()) {
      throw new ConfigException(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
          "required: the Kafka cluster to read from and write to (host:port,...)");
    }
    EnrichmentApp.createTopics(config, topics(config));
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      Generator generator = openGenerator(config);
      opened.add(0, generator);
      GptStage stage = GptStage.start(generator, config);
      opened.add(0, stage);
      Properties props = StreamsSettings.generation(config, stage);
      KafkaStreams streams = new KafkaStreams(GenerationTopology.create(config, stage), props);
      opened.add(0, streams::close);
      GenerationApp app = new GenerationApp(generator, stage, streams);
      streams.setUncaughtExceptionHandler(e -> {
        LOG.error("stream thread failed; shutting the generation client down", e);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      streams.setStateListener((now, before) -> {
        LOG.info("Kafka Streams (GPT stage) {} -> {}", before, now);
        if (now == KafkaStreams.State.RUNNING) {
          app.running.complete(null);
        }
        if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
          app.terminated.complete(now);
        }
      });
      LOG.info("starting generation: {} -> {} | {} | {} (application.id {}, model {}, max batch {}, max_new_tokens"
              + " summary {} / reply {})", config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS),
          config.getString(NlpstreamConfig.TOPIC_SUMMARIES), config.getString(NlpstreamConfig.TOPIC_REPLIES),
          config.getString(NlpstreamConfig.TOPIC_DLQ), config.getString(NlpstreamConfig.GPT_APPLICATION_ID),
          generator.modelId(), config.getInt(NlpstreamConfig.GPT_MAX_BATCH_SIZE),
          config.getInt(NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY), config.getInt(NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY));
      streams.start();
      return app;
    } catch (RuntimeException e) {
      for (AutoCloseable c : opened) {
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /**
   * Opens {@code gpt.model} from the catalogue ({@code model.catalog.dir} first, then the built-in
   * one; packaged bundles extracted to {@code model.cache.dir}) with the {@code gpt.*} generator
   * settings, on the configured execution provider and intra-op threads. The caller owns (closes) it.
   */
  public static Generator openGenerator(NlpstreamConfig config) {
    ExecutionProvider provider = "cuda".equals(config.getString(NlpstreamConfig.INFERENCE_PROVIDER))
        ? ExecutionProvider.CUDA : ExecutionProvider.CPU;
    OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(
        provider, config.getInt(NlpstreamConfig.INFERENCE_CUDA_DEVICE), EnrichmentApp.intraOpThreads(config)));
    String catalogDir = config.getString(NlpstreamConfig.MODEL_CATALOG_DIR);
    ModelCatalog catalog = ModelCatalog.open(catalogDir.isBlank() ? Optional.empty() : Optional.of(Path.of(catalogDir)));
    String id = config.getString(NlpstreamConfig.GPT_MODEL);
    GeneratorOptions options = GptStage.generatorOptions(config, catalog.manifest(id).promptTemplates());
    return catalog.openGenerator(id, runtime, options, Path.of(config.getString(NlpstreamConfig.MODEL_CACHE_DIR)));
  }

  /** The topics the GPT stage reads and writes: requests, summaries, replies, dead letters. */
  public static List<String> topics(NlpstreamConfig config) {
    return List.of(config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS),
        config.getString(NlpstreamConfig.TOPIC_SUMMARIES), config.getString(NlpstreamConfig.TOPIC_REPLIES),
        config.getString(NlpstreamConfig.TOPIC_DLQ));
  }

  public GptStage stage() {
    return stage;
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  @Override
  public CompletableFuture<Void> running() {
    return running;
  }

  @Override
  public CompletableFuture<KafkaStreams.State> terminated() {
    return terminated;
  }

  /** Closes streams, stage and generator, in that order, each even if an earlier one fails. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long start = System.nanoTime();
    RuntimeException failure = null;
    try {
      if (!streams.close(CLOSE_TIMEOUT)) {
        failure = new IllegalStateException("Kafka Streams (GPT stage) did not close within " + CLOSE_TIMEOUT);
      }
    } catch (RuntimeException e) {
      failure = e;
    }
    stage.close();
    LOG.info("GPT stage counters: {}; generator {}: {}", stage.counters().snapshot(), generator.modelId(),
        generator.stats());
    try {
      generator.close();
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    LOG.info("generation closed in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    if (failure != null) {
      throw failure;
    }
  }
}
