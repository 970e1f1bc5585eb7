package io.nlpstream.app;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.catalog.AnalyzerSpec;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.ops.HealthCheck;
import io.nlpstream.ops.HealthChecks;
import io.nlpstream.ops.HealthStatus;
import io.nlpstream.ops.Observability;
import io.nlpstream.ops.StreamsHealthCheck;
import io.nlpstream.topology.BertStage;
import io.nlpstream.topology.PipelineCounters;
import io.nlpstream.topology.EnrichmentTopology;
import io.nlpstream.topology.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BERT enrichment service of one process, wired from one {@link NlpstreamConfig}: the ONNX
 * Runtime environment, the analyzer from the model catalogue, the {@link BertStage} (the
 * process-wide batcher), the {@link EnrichmentTopology} and the {@link KafkaStreams} client.
 *
 * <p>Threads and cores. Inference runs on one thread only, the stage's batcher, one batch at a
 * time; ONNX Runtime parallelises each batch over its intra-op pool, sized to every available core
 * ({@code inference.intra.op.threads=0}). Stream threads only parse, buffer and forward, so the
 * default of one is enough and keeps them from competing with the intra-op pool for the cores: with
 * {@code C} cores the process runs {@code C} busy inference threads plus one mostly idle stream
 * thread, never {@code streams x C}. Several concurrent inferences with smaller pools would be the
 * other way; on CPU one inference at a time over all cores is faster (shared/DESIGN.md, measured on
 * 2 cores), and one queue for the whole process also makes the batches as large as the load allows.
 *
 * <p>Failure policy: per-record failures are the topology's (exception handlers, dead-letter topic).
 * An exception that escapes a stream thread shuts the client down ({@code SHUTDOWN_CLIENT}): the
 * state becomes ERROR, {@link #terminated()} completes, and the command exits non-zero so that a
 * supervisor restarts the process, which resumes from the committed state.
 *
 * <p>Ownership: the app owns everything it creates and {@link #close() closes} it in order health
 * registrations (readiness stops counting on it), streams (commits, flushes the buffer store), stage
 * (stops the batcher), analyzer (ONNX sessions), metric binders. The
 * {@link OrtRuntime} holds no native resource of its own (ONNX Runtime's environment lives as long
 * as the process), so there is nothing to close after the analyzer. Thread safety:
 * {@link #close()} may be called from any thread, e.g. a shutdown hook, and is idempotent.
 */
public final class EnrichmentApp implements StreamsService {

  private static final Logger LOG = LoggerFactory.getLogger(EnrichmentApp.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

  /** Health component of the BERT stage's models and batcher. */
  public static final String MODELS_HEALTH = BertStage.NAME + ".models";
  /** Health component of the BERT stage's Kafka Streams client. */
  public static final String STREAMS_HEALTH = BertStage.NAME + ".streams";
  /** How often new Kafka client metrics (tasks, partitions assigned later) are bound to the registry. */
  private static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);

  /** Where a static member id can be given to Kafka Streams' consumer (plain, or with a client prefix). */
  private static final List<String> STATIC_MEMBER_KEYS = List.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
      StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
      StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));

  private final NlpstreamConfig config;
  private final TextAnalyzer analyzer;
  private final BertStage stage;
  private final KafkaStreams streams;
  private final List<AutoCloseable> observers;
  private final CompletableFuture<Void> running = new CompletableFuture<>();
  private final CompletableFuture<KafkaStreams.State> terminated = new CompletableFuture<>();
  private boolean closed;

  private EnrichmentApp(NlpstreamConfig config, TextAnalyzer analyzer, BertStage stage, KafkaStreams streams,
                        List<AutoCloseable> observers) {
    this.config = config;
    this.analyzer = analyzer;
    this.stage = stage;
    this.streams = streams;
    this.observers = observers;
  }

  /**
   * {@link #start(NlpstreamConfig, Observability)} with a registry and health checks of its own,
   * not served over HTTP (benchmarks, tests); the app closes them.
   */
  public static EnrichmentApp start(NlpstreamConfig config) {
    Observability own = Observability.unserved();
    try {
      return start(config, own, own);
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * Checks the configuration, creates the missing topics, loads the models and starts Kafka
   * Streams. Returns without waiting for RUNNING (see {@link #awaitRunning}).
   *
   * <p>Registers in {@code observability} (which the caller owns and closes after the app): the
   * stage's meters ({@code stage=bert}), Kafka Streams' own metrics (consumer lag included), and the
   * health components {@value #MODELS_HEALTH} (ready once the models are loaded, not live if the
   * batcher thread dies) and {@value #STREAMS_HEALTH} (ready while RUNNING). {@link #close()}
   * removes them all again.
   *
   * @throws ConfigException when {@code bootstrap.servers} is empty or the topics cannot be created
   * @throws io.nlpstream.models.runtime.ModelLoadException when a model file is missing or corrupt
   */
  public static EnrichmentApp start(NlpstreamConfig config, Observability observability) {
    return start(config, observability, null);
  }

  private static EnrichmentApp start(NlpstreamConfig config, Observability observability, Observability owned) {
    String bootstrap = config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS);
    if (bootstrap.isBlank()) {
      throw new ConfigException(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
          "required: the Kafka cluster to read from and write to (host:port,...)");
    }
    createTopics(config);

    int cores = Runtime.getRuntime().availableProcessors();
    int intraOp = intraOpThreads(config);
    int streamThreads = config.getInt(NlpstreamConfig.STREAM_THREADS);
    if (intraOp > cores) {
      LOG.warn("{}={} exceeds the {} available processors: inference threads will contend",
          NlpstreamConfig.INFERENCE_INTRA_OP_THREADS, intraOp, cores);
    }
    LOG.info("{} cores: inference on 1 batcher thread x {} ONNX Runtime intra-op threads; {} stream thread(s)",
        cores, intraOp, streamThreads);

    LOG.info("configuration (secrets hidden): {}", config.effectiveValues());

    List<AutoCloseable> opened = new ArrayList<>();
    List<AutoCloseable> observers = new ArrayList<>();
    if (owned != null) {
      opened.add(owned);
      observers.add(owned);
    }
    try {
      ModelsHealthCheck modelsHealth = new ModelsHealthCheck();
      HealthChecks.Registration modelsRegistration = observability.health().register(MODELS_HEALTH, modelsHealth);
      opened.add(0, modelsRegistration);
      observers.add(0, modelsRegistration);
      TextAnalyzer analyzer = openAnalyzer(config);
      opened.add(0, analyzer);
      BertStage stage = BertStage.start(analyzer, config, observability.registry());
      opened.add(0, stage);
      modelsHealth.loaded(stage);
      Topology topology = EnrichmentTopology.create(config, stage);
      Properties props = StreamsSettings.enrichment(config, stage);
      KafkaStreams streams = new KafkaStreams(topology, props);
      opened.add(0, streams::close);
      KafkaStreamsMetrics kafkaMetrics = new KafkaStreamsMetrics(streams, Tags.of(PipelineCounters.STAGE_TAG,
          BertStage.NAME), Executors.newSingleThreadScheduledExecutor(daemon("nlpstream-kafka-metrics")),
          KAFKA_METRICS_REFRESH);
      kafkaMetrics.bindTo(observability.registry());
      opened.add(0, kafkaMetrics);
      observers.add(0, kafkaMetrics);
      HealthChecks.Registration streamsRegistration = observability.health().register(STREAMS_HEALTH,
          new StreamsHealthCheck(streams, config.getString(NlpstreamConfig.APPLICATION_ID)));
      opened.add(0, streamsRegistration);
      observers.add(0, streamsRegistration);

      EnrichmentApp app = new EnrichmentApp(config, analyzer, stage, streams, observers);
      streams.setUncaughtExceptionHandler(e -> {
        LOG.error("stream thread failed; shutting the enrichment client down", e);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      streams.setStateListener((now, before) -> {
        LOG.info("Kafka Streams {} -> {}", before, now);
        if (now == KafkaStreams.State.RUNNING) {
          app.running.complete(null);
        }
        if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
          app.terminated.complete(now);
        }
      });
      LOG.info("starting enrichment: {} -> {} | {} | {} (application.id {}, {})",
          config.getString(NlpstreamConfig.TOPIC_INPUT), config.getString(NlpstreamConfig.TOPIC_ENRICHED),
          config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS), config.getString(NlpstreamConfig.TOPIC_DLQ),
          config.getString(NlpstreamConfig.APPLICATION_ID), analyzer.models());
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
   * Creates the input, output, dead-letter and GPT request topics that do not exist yet, with
   * {@code topic.partitions} and {@code topic.replication.factor}. Existing topics are left as
   * they are.
   */
  public static void createTopics(NlpstreamConfig config) {
    createTopics(config, topics(config));
  }

  /** Creates those of {@code names} that do not exist yet, as {@link #createTopics(NlpstreamConfig)}. */
  public static void createTopics(NlpstreamConfig config, List<String> names) {
    Map<String, Object> adminConfig = KafkaClientSettings.admin(config);
    adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
    int partitions = config.getInt(NlpstreamConfig.TOPIC_PARTITIONS);
    short replication = config.getShort(NlpstreamConfig.TOPIC_REPLICATION_FACTOR);
    try (Admin admin = Admin.create(adminConfig)) {
      Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      List<NewTopic> missing = names.stream()
          .filter(n -> !existing.contains(n))
          .map(n -> new NewTopic(n, partitions, replication))
          .toList();
      if (missing.isEmpty()) {
        return;
      }
      for (var entry : admin.createTopics(missing).values().entrySet()) {
        try {
          entry.getValue().get(60, TimeUnit.SECONDS);
          LOG.info("created topic {} ({} partitions, replication {})", entry.getKey(), partitions, replication);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          // Another instance created it between our list and create: fine.
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new ConfigException("cannot create the topics " + names + " on " + config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS)
          + " (" + NlpstreamConfig.BOOTSTRAP_SERVERS + "): " + cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  /**
   * Opens the BERT-stage analyzer from the catalogue ({@code model.catalog.dir} first, then the
   * built-in one): {@code model.bert} for every role, except those that {@code model.sentiment},
   * {@code model.entities} or {@code model.classes} give to another model; on the configured
   * execution provider and intra-op threads. The caller owns (closes) it.
   *
   * @throws io.nlpstream.models.runtime.ModelLoadException naming the file that is missing or corrupt
   */
  public static TextAnalyzer openAnalyzer(NlpstreamConfig config) {
    ExecutionProvider provider = "cuda".equals(config.getString(NlpstreamConfig.INFERENCE_PROVIDER))
        ? ExecutionProvider.CUDA : ExecutionProvider.CPU;
    OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(
        provider, config.getInt(NlpstreamConfig.INFERENCE_CUDA_DEVICE), intraOpThreads(config)));
    String catalogDir = config.getString(NlpstreamConfig.MODEL_CATALOG_DIR);
    ModelCatalog catalog = ModelCatalog.open(catalogDir.isBlank() ? Optional.empty() : Optional.of(Path.of(catalogDir)));
    AnalyzerSpec spec = AnalyzerSpec.of(config.getString(NlpstreamConfig.MODEL_BERT))
        .with(Role.SENTIMENT, config.getString(NlpstreamConfig.MODEL_SENTIMENT))
        .with(Role.ENTITIES, config.getString(NlpstreamConfig.MODEL_ENTITIES))
        .with(Role.CLASSES, config.getString(NlpstreamConfig.MODEL_CLASSES));
    return catalog.openAnalyzer(spec, runtime, config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS));
  }

  /** The topics the app reads and writes: input, enriched, GPT requests, dead letters. */
  public static List<String> topics(NlpstreamConfig config) {
    return List.of(config.getString(NlpstreamConfig.TOPIC_INPUT), config.getString(NlpstreamConfig.TOPIC_ENRICHED),
        config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS), config.getString(NlpstreamConfig.TOPIC_DLQ));
  }

  /** {@code inference.intra.op.threads}, with 0 resolved to the available processors. */
  public static int intraOpThreads(NlpstreamConfig config) {
    int configured = config.getInt(NlpstreamConfig.INFERENCE_INTRA_OP_THREADS);
    return configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
  }

  public NlpstreamConfig config() {
    return config;
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The BERT stage's meters (what {@code /metrics} serves under {@code stage=bert}). */
  public PipelineCounters counters() {
    return stage.counters();
  }

  /** Where the broker is expected, for the timeout message of {@link #awaitRunning}. */
  @Override
  public String notRunningHint() {
    return " (state " + streams.state() + "); is the broker at " + config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS)
        + " reachable?";
  }

  /** Completes when Kafka Streams first reaches RUNNING. */
  @Override
  public CompletableFuture<Void> running() {
    return running;
  }

  /** Completes with ERROR or NOT_RUNNING once Kafka Streams has stopped, for whatever reason. */
  @Override
  public CompletableFuture<KafkaStreams.State> terminated() {
    return terminated;
  }

  /**
   * Closes streams, stage and analyzer, in that order; each is closed even if an earlier
   * one fails (the first failure is thrown, later ones suppressed into it). Idempotent.
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
        failure = closeStep("health registration", r::close, failure);
      }
    }
    failure = closeStep("Kafka Streams", () -> {
      if (!streams.close(CloseOptions.timeout(CLOSE_TIMEOUT).withGroupMembershipOperation(membershipOnClose(config)))) {
        throw new IllegalStateException("Kafka Streams did not close within " + CLOSE_TIMEOUT);
      }
    }, failure);
    failure = closeStep("BERT stage", stage::close, failure);
    failure = closeStep("analyzer", analyzer::close, failure);
    for (AutoCloseable observer : observers) {
      if (!(observer instanceof HealthChecks.Registration)) {
        failure = closeStep("metrics", observer::close, failure);
      }
    }
    LOG.info("enrichment closed in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * What a clean close does with the consumer group membership. Kafka Streams by default stays in the
   * group on close, which suits static membership ({@code group.instance.id}): the restarted instance
   * takes its place without a rebalance. Without it (our default) a restarted instance joins under a
   * new member id anyway, and the stopped member's partitions would stay unprocessed until its
   * session expires ({@code session.timeout.ms}, 45 s by default): in a rolling restart, every
   * instance stops the partitions it owned for that long. So the app leaves the group on close,
   * unless a static member id is configured, and the others take over at once
   * ({@code RollingRestartIT}).
   */
  static CloseOptions.GroupMembershipOperation membershipOnClose(NlpstreamConfig config) {
    Map<String, Object> kafka = config.kafkaOverrides();
    boolean staticMember = STATIC_MEMBER_KEYS.stream().anyMatch(k -> {
      Object v = kafka.get(k);
      return v != null && !v.toString().isBlank();
    });
    return staticMember ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
        : CloseOptions.GroupMembershipOperation.LEAVE_GROUP;
  }

  /** Runs one close step; returns the first failure, later ones suppressed into it. Shared with {@link GenerationApp}. */
  static RuntimeException closeStep(String what, ThrowingRunnable step, RuntimeException failure) {
    try {
      step.run();
      return failure;
    } catch (Exception e) {
      RuntimeException wrapped = e instanceof RuntimeException r ? r : new IllegalStateException("closing " + what, e);
      if (failure == null) {
        return wrapped;
      }
      failure.addSuppressed(wrapped);
      return failure;
    }
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }

  static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * {@value #MODELS_HEALTH}: not ready while the models load; then ready while the stage's batcher
   * runs, and not live once it has died (no submitted text would ever complete).
   */
  private static final class ModelsHealthCheck implements HealthCheck {
    private volatile BertStage stage;

    void loaded(BertStage stage) {
      this.stage = stage;
    }

    @Override
    public HealthStatus check() {
      BertStage s = stage;
      if (s == null) {
        return HealthStatus.of(true, false, Map.of("models", "loading"));
      }
      boolean batcher = s.isRunning();
      return HealthStatus.of(batcher, batcher, Map.of("models", s.models(), "batcher", batcher ? "running" : "stopped",
          "queued_texts", s.waitingTexts()));
    }
  }
}
