package io.nlpstream.app;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.gpt.DecoderCallListener;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.gpt.GeneratorStats;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.ops.HealthCheck;
import io.nlpstream.ops.HealthChecks;
import io.nlpstream.ops.HealthStatus;
import io.nlpstream.ops.Observability;
import io.nlpstream.ops.StreamsHealthCheck;
import io.nlpstream.topology.GenerationCounters;
import io.nlpstream.topology.GenerationTopology;
import io.nlpstream.topology.GptStage;
import io.nlpstream.topology.PipelineCounters;
import io.nlpstream.topology.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.CloseOptions;
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
 * <p>Operations, as {@link EnrichmentApp}: the stage's meters ({@code stage=gpt}: requests in,
 * outputs by kind, dead letters by reason, decoder batch sizes and tokens, inference and in-stage
 * latency, buffered requests, queued and running sequences, generated tokens), Kafka Streams' own
 * metrics (consumer lag included) tagged {@code stage=gpt}, and the health components
 * {@value #MODELS_HEALTH} and {@value #STREAMS_HEALTH}, all in the process's {@link Observability}.
 *
 * <p>Failure policy as {@link EnrichmentApp}. Ownership: the app owns what it creates and closes it
 * in the order health registrations (readiness stops counting on it), streams, stage (its meters
 * leave the registry), generator, Kafka metrics. {@link #close()} logs the stage's counters and the
 * generator's, and is idempotent and callable from any thread.
 */
public final class GenerationApp implements StreamsService {

  private static final Logger LOG = LoggerFactory.getLogger(GenerationApp.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);
  /** How often new Kafka client metrics (tasks, partitions assigned later) are bound to the registry. */
  private static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);

  /** Health component of the GPT stage's model and decoding loop. */
  public static final String MODELS_HEALTH = GptStage.NAME + ".models";
  /** Health component of the GPT stage's Kafka Streams client. */
  public static final String STREAMS_HEALTH = GptStage.NAME + ".streams";

  private final Generator generator;
  private final GptStage stage;
  private final KafkaStreams streams;
  private final List<AutoCloseable> observers;
  /** Leave the group on close unless static membership is configured: see {@link EnrichmentApp#membershipOnClose}. */
  private final CloseOptions.GroupMembershipOperation membershipOnClose;
  private final CompletableFuture<Void> running = new CompletableFuture<>();
  private final CompletableFuture<KafkaStreams.State> terminated = new CompletableFuture<>();
  private boolean closed;

  private GenerationApp(Generator generator, GptStage stage, KafkaStreams streams, List<AutoCloseable> observers,
                        CloseOptions.GroupMembershipOperation membershipOnClose) {
    this.membershipOnClose = membershipOnClose;
    this.generator = generator;
    this.stage = stage;
    this.streams = streams;
    this.observers = observers;
  }

  /**
   * {@link #start(NlpstreamConfig, Observability)} with a registry and health checks of its own,
   * not served over HTTP (benchmarks, tests); the app closes them.
   */
  public static GenerationApp start(NlpstreamConfig config) {
    Observability own = Observability.unserved();
    try {
      return start(config, own, own, DecoderCallListener.NONE);
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * Checks the configuration, creates the missing topics, loads the generator and starts Kafka
   * Streams. Returns without waiting for RUNNING.
   *
   * <p>Registers in {@code observability} (which the caller owns and closes after the app): the
   * stage's meters ({@code stage=gpt}), Kafka Streams' own metrics, and the health components
   * {@value #MODELS_HEALTH} (ready once the model is loaded and while its decoding loop runs; not
   * live once the loop has died) and {@value #STREAMS_HEALTH} (ready while RUNNING). {@link #close()}
   * removes them all again.
   *
   * @throws ConfigException when {@code bootstrap.servers} is empty, a {@code gpt.*} key is
   *                         inconsistent with the model, or the topics cannot be created
   * @throws io.nlpstream.models.runtime.ModelLoadException when the model is unknown, or a file is
   *                                                        missing or corrupt
   */
  public static GenerationApp start(NlpstreamConfig config, Observability observability) {
    return start(config, observability, null, DecoderCallListener.NONE);
  }

  /**
   * {@link #start(NlpstreamConfig, Observability)} with one more listener to every decoder call,
   * told after the stage's counters, on the decoding thread. Tests use it to make generation slow
   * ({@code SlowGptStageIT}).
   */
  static GenerationApp start(NlpstreamConfig config, Observability observability, DecoderCallListener alsoTell) {
    return start(config, observability, null, alsoTell);
  }

  private static GenerationApp start(NlpstreamConfig config, Observability observability, Observability owned,
                                     DecoderCallListener alsoTell) {
    String bootstrap = config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS);
    if (bootstrap.isBlank()) {
      throw new ConfigException(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
          "required: the Kafka cluster to read from and write to (host:port,...)");
    }
    EnrichmentApp.createTopics(config, topics(config));
    List<AutoCloseable> opened = new ArrayList<>();
    List<AutoCloseable> observers = new ArrayList<>();
    if (owned != null) {
      opened.add(owned);
      observers.add(owned);
    }
    try {
      ModelHealthCheck modelHealth = new ModelHealthCheck();
      HealthChecks.Registration modelRegistration = observability.health().register(MODELS_HEALTH, modelHealth);
      opened.add(0, modelRegistration);
      observers.add(0, modelRegistration);
      // The counters exist before the generator: they are its decoder-call listener.
      GenerationCounters counters = new GenerationCounters(observability.registry());
      opened.add(0, counters);
      DecoderCallListener listener = alsoTell == DecoderCallListener.NONE ? counters
          : (phase, sequences, tokens, padded, nanos) -> {
            counters.onCall(phase, sequences, tokens, padded, nanos);
            alsoTell.onCall(phase, sequences, tokens, padded, nanos);
          };
      Generator generator = openGenerator(config, listener);
      opened.add(0, generator);
      GptStage stage = GptStage.start(generator, config, counters);   // owns the counters from here on
      opened.remove(counters);
      opened.add(0, stage);
      modelHealth.loaded(stage);
      Properties props = StreamsSettings.generation(config, stage);
      KafkaStreams streams = new KafkaStreams(GenerationTopology.create(config, stage), props);
      opened.add(0, streams::close);
      KafkaStreamsMetrics kafkaMetrics = new KafkaStreamsMetrics(streams, Tags.of(PipelineCounters.STAGE_TAG,
          GptStage.NAME), Executors.newSingleThreadScheduledExecutor(EnrichmentApp.daemon("nlpstream-gpt-kafka-metrics")),
          KAFKA_METRICS_REFRESH);
      kafkaMetrics.bindTo(observability.registry());
      opened.add(0, kafkaMetrics);
      observers.add(0, kafkaMetrics);
      HealthChecks.Registration streamsRegistration = observability.health().register(STREAMS_HEALTH,
          new StreamsHealthCheck(streams, config.getString(NlpstreamConfig.GPT_APPLICATION_ID)));
      opened.add(0, streamsRegistration);
      observers.add(0, streamsRegistration);

      GenerationApp app = new GenerationApp(generator, stage, streams, observers,
          EnrichmentApp.membershipOnClose(config));
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

  /** {@link #openGenerator(NlpstreamConfig, DecoderCallListener)} without a listener. */
  public static Generator openGenerator(NlpstreamConfig config) {
    return openGenerator(config, DecoderCallListener.NONE);
  }

  /**
   * Opens {@code gpt.model} from the catalogue ({@code model.catalog.dir} first, then the built-in
   * one; packaged bundles extracted to {@code model.cache.dir}) with the {@code gpt.*} generator
   * settings, on the configured execution provider and intra-op threads, telling {@code listener}
   * about every decoder call. The caller owns (closes) it.
   *
   * @throws ConfigException naming {@code gpt.model} when the catalogue has no such model
   * @throws io.nlpstream.models.runtime.ModelLoadException when a file of the bundle is missing or corrupt
   */
  public static Generator openGenerator(NlpstreamConfig config, DecoderCallListener listener) {
    ExecutionProvider provider = "cuda".equals(config.getString(NlpstreamConfig.INFERENCE_PROVIDER))
        ? ExecutionProvider.CUDA : ExecutionProvider.CPU;
    OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(
        provider, config.getInt(NlpstreamConfig.INFERENCE_CUDA_DEVICE), EnrichmentApp.intraOpThreads(config)));
    String catalogDir = config.getString(NlpstreamConfig.MODEL_CATALOG_DIR);
    ModelCatalog catalog = ModelCatalog.open(catalogDir.isBlank() ? Optional.empty() : Optional.of(Path.of(catalogDir)));
    String id = config.getString(NlpstreamConfig.GPT_MODEL);
    if (!catalog.ids().contains(id)) {
      throw new ConfigException(NlpstreamConfig.GPT_MODEL, id, "no such model in the catalogue (known ids: "
          + catalog.ids() + "); name a gpt-decoder bundle it has, or put one in "
          + NlpstreamConfig.MODEL_CATALOG_DIR + (catalogDir.isBlank() ? " (not set)" : " (" + catalogDir + ")"));
    }
    GeneratorOptions options = GptStage.generatorOptions(config, catalog.manifest(id).promptTemplates(), listener);
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

  /**
   * Closes health registrations, streams, stage, generator and Kafka metrics, in that order, each
   * even if an earlier one fails (the first failure is thrown, later ones suppressed). Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long start = System.nanoTime();
    RuntimeException failure = null;
    // Health first, so that readiness stops counting on this stage before it goes away.
    for (AutoCloseable observer : observers) {
      if (observer instanceof HealthChecks.Registration r) {
        failure = EnrichmentApp.closeStep("health registration", r::close, failure);
      }
    }
    failure = EnrichmentApp.closeStep("Kafka Streams (GPT stage)", () -> {
      if (!streams.close(CloseOptions.timeout(CLOSE_TIMEOUT).withGroupMembershipOperation(membershipOnClose))) {
        throw new IllegalStateException("Kafka Streams (GPT stage) did not close within " + CLOSE_TIMEOUT);
      }
    }, failure);
    failure = EnrichmentApp.closeStep("GPT stage", stage::close, failure);
    LOG.info("GPT stage counters: {}; generator {}: {}", stage.counters().snapshot(), generator.modelId(),
        generator.stats());
    failure = EnrichmentApp.closeStep("generator", generator::close, failure);
    for (AutoCloseable observer : observers) {
      if (!(observer instanceof HealthChecks.Registration)) {
        failure = EnrichmentApp.closeStep("metrics", observer::close, failure);
      }
    }
    LOG.info("generation closed in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * {@value #MODELS_HEALTH}: not ready while the model loads; then ready while the generator's
   * decoding loop runs, and not live once it has died (no request would ever complete).
   */
  private static final class ModelHealthCheck implements HealthCheck {
    private volatile GptStage stage;

    void loaded(GptStage stage) {
      this.stage = stage;
    }

    @Override
    public HealthStatus check() {
      GptStage s = stage;
      if (s == null) {
        return HealthStatus.of(true, false, Map.of("models", "loading"));
      }
      boolean loop = s.isRunning();
      GeneratorStats stats = s.generator().stats();
      return HealthStatus.of(loop, loop, Map.of("models", Map.of("generator", s.modelId()),
          "generator", loop ? "running" : "stopped", "running_sequences", stats.running(),
          "queued_requests", stats.waiting()));
    }
  }
}
