package io.nlpstream.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The one configuration object of nlpstream: immutable, validated at construction, every key with a
 * type, a default and a doc string (Kafka's {@link ConfigDef}, so the reference documentation is
 * generated from these definitions: {@link #CONFIG}{@code .toEnrichedRst()}).
 *
 * <p>Sources, lowest precedence first: defaults, a properties file, environment variables
 * ({@link #fromEnvironment}: {@code NLPSTREAM_BATCH_MAX_TOKENS=4096} sets {@code batch.max.tokens}),
 * explicit overrides (command-line flags). Environment variables are read in this class only.
 *
 * <p>Keys prefixed {@value #KAFKA_PREFIX} are passed, without the prefix, to the Kafka clients and
 * Kafka Streams (for example {@code kafka.security.protocol}). An unknown key that is neither
 * defined here nor prefixed fails start-up with a message naming it.
 */
public final class NlpstreamConfig extends AbstractConfig {

  public static final String KAFKA_PREFIX = "kafka.";
  public static final String ENV_PREFIX = "NLPSTREAM_";

  // --- Kafka ---
  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
  public static final String APPLICATION_ID = "application.id";
  public static final String PROCESSING_GUARANTEE = "processing.guarantee";
  public static final String COMMIT_INTERVAL_MS = "commit.interval.ms";
  public static final String STATE_DIR = "state.dir";
  public static final String STREAM_THREADS = "stream.threads";
  public static final String TOPIC_PARTITIONS = "topic.partitions";
  public static final String TOPIC_REPLICATION_FACTOR = "topic.replication.factor";

  // --- Topics ---
  public static final String TOPIC_INPUT = "topic.input";
  public static final String TOPIC_ENRICHED = "topic.enriched";
  public static final String TOPIC_DLQ = "topic.dlq";
  public static final String TOPIC_GPT_REQUESTS = "topic.gpt.requests";

  // --- Input limits ---
  public static final String MAX_INPUT_BYTES = "max.input.bytes";
  public static final String MAX_INPUT_NESTING_DEPTH = "max.input.nesting.depth";
  public static final String MAX_TEXT_CHARS = "max.text.chars";

  // --- BERT stage batching ---
  public static final String BATCH_MAX_TOKENS = "batch.max.tokens";
  public static final String BATCH_MAX_SIZE = "batch.max.size";
  public static final String BATCH_MAX_WAIT_MS = "batch.max.wait.ms";
  public static final String BATCH_MAX_QUEUED_TOKENS = "batch.max.queued.tokens";
  public static final String BATCH_MAX_PADDING_RATIO = "batch.max.padding.ratio";
  public static final String BERT_FORWARD_INTERVAL_MS = "bert.forward.interval.ms";
  public static final String BERT_MAX_PENDING_PER_TASK = "bert.max.pending.per.task";

  // --- Inference runtime ---
  public static final String INFERENCE_PROVIDER = "inference.provider";
  public static final String INFERENCE_CUDA_DEVICE = "inference.cuda.device";
  public static final String INFERENCE_INTRA_OP_THREADS = "inference.intra.op.threads";
  public static final String MODEL_CATALOG_DIR = "model.catalog.dir";
  public static final String MODEL_BERT = "model.bert";
  public static final String MODEL_SENTIMENT = "model.sentiment";
  public static final String MODEL_ENTITIES = "model.entities";
  public static final String MODEL_CLASSES = "model.classes";

  // --- Routing to the GPT stage ---
  public static final String ROUTING_RULES = "routing.rules";

  // --- GPT stage ---
  public static final String GPT_APPLICATION_ID = "gpt.application.id";
  public static final String TOPIC_SUMMARIES = "topic.summaries";
  public static final String TOPIC_REPLIES = "topic.replies";
  public static final String GPT_MODEL = "gpt.model";
  public static final String MODEL_CACHE_DIR = "model.cache.dir";
  public static final String GPT_MAX_BATCH_SIZE = "gpt.max.batch.size";
  public static final String GPT_MAX_BATCH_TOKENS = "gpt.max.batch.tokens";
  public static final String GPT_MAX_QUEUED = "gpt.max.queued";
  public static final String GPT_MAX_NEW_TOKENS_SUMMARY = "gpt.max.new.tokens.summary";
  public static final String GPT_MAX_NEW_TOKENS_REPLY = "gpt.max.new.tokens.reply";
  public static final String GPT_TEMPERATURE = "gpt.temperature";
  public static final String GPT_TOP_K = "gpt.top.k";
  public static final String GPT_TOP_P = "gpt.top.p";
  public static final String GPT_SEED = "gpt.seed";
  public static final String GPT_PROMPT_STYLE = "gpt.prompt.style";
  public static final String GPT_TEMPLATE_SUMMARY = "gpt.template.summary";
  public static final String GPT_TEMPLATE_REPLY = "gpt.template.reply";
  public static final String GPT_STOP_STRINGS = "gpt.stop.strings";
  public static final String GPT_FORWARD_INTERVAL_MS = "gpt.forward.interval.ms";
  public static final String GPT_MAX_PENDING_PER_TASK = "gpt.max.pending.per.task";
  public static final String GPT_MAX_BLOCK_MS = "gpt.max.block.ms";
  public static final String GPT_ANSWERED_RETENTION_MS = "gpt.answered.retention.ms";

  // --- Operations ---
  public static final String METRICS_PORT = "metrics.port";
  public static final String METRICS_BIND_ADDRESS = "metrics.bind.address";

  public static final ConfigDef CONFIG = new ConfigDef()
      .define(BOOTSTRAP_SERVERS, Type.STRING, "", Importance.HIGH,
          "Kafka bootstrap servers (host:port,...). Required by 'run'; 'demo' sets it to its embedded broker.")
      .define(APPLICATION_ID, Type.STRING, "nlpstream-enrich", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka Streams application id of the BERT stage: consumer group, state store and changelog prefix.")
      .define(PROCESSING_GUARANTEE, Type.STRING, "exactly_once_v2",
          ValidString.in("at_least_once", "exactly_once_v2"), Importance.HIGH,
          "Kafka Streams processing guarantee. Under exactly_once_v2 the buffered records, the outputs and the"
              + " input offsets commit in one transaction.")
      .define(COMMIT_INTERVAL_MS, Type.LONG, 100L, Range.atLeast(1), Importance.MEDIUM,
          "How often Kafka Streams commits (ms). Bounds the end-to-end latency under exactly_once_v2.")
      .define(STATE_DIR, Type.STRING, defaultStateDir(), Importance.MEDIUM,
          "Directory of Kafka Streams' local state (the batch buffer store).")
      .define(STREAM_THREADS, Type.INT, 1, Range.atLeast(1), Importance.MEDIUM,
          "Kafka Streams threads. They only parse, buffer and forward: inference runs on the shared batcher"
              + " thread, so one is enough unless parsing becomes the bottleneck.")
      .define(TOPIC_PARTITIONS, Type.INT, 2, Range.atLeast(1), Importance.LOW,
          "Partitions of the topics nlpstream creates when they do not exist.")
      .define(TOPIC_REPLICATION_FACTOR, Type.SHORT, (short) 1, Range.atLeast(1), Importance.LOW,
          "Replication factor of the topics nlpstream creates when they do not exist.")
      .define(TOPIC_INPUT, Type.STRING, "text.in", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Input topic of text events (JSON objects with a 'text' field).")
      .define(TOPIC_ENRICHED, Type.STRING, "text.enriched", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Output topic of enriched events.")
      .define(TOPIC_DLQ, Type.STRING, "text.dlq", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Dead-letter topic: records that could not be processed, with a reason code and the original bytes.")
      .define(TOPIC_GPT_REQUESTS, Type.STRING, "text.gpt.requests", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Topic of generation requests for the GPT stage (routed records).")
      .define(MAX_INPUT_BYTES, Type.INT, 256 * 1024, Range.atLeast(1), Importance.MEDIUM,
          "Largest accepted input value in bytes; larger values go to the dead-letter topic as too_large"
              + " before any parsing.")
      .define(MAX_INPUT_NESTING_DEPTH, Type.INT, 32, Range.between(2, 1000), Importance.LOW,
          "Deepest JSON nesting (objects and arrays) accepted in an input value; deeper values go to the"
              + " dead-letter topic as too_large. Guards the parser's stack against hostile input.")
      .define(MAX_TEXT_CHARS, Type.INT, 100_000, Range.atLeast(1), Importance.MEDIUM,
          "Longest accepted 'text' field in UTF-16 chars; longer texts go to the dead-letter topic as too_large"
              + " before they reach a tokenizer (inference cost grows with the length: long texts are covered by"
              + " overlapping encoder windows).")
      .define(BATCH_MAX_TOKENS, Type.INT, 8192, Range.atLeast(1), Importance.MEDIUM,
          "Token budget of one encoder batch: batch size x longest sequence (padded tokens).")
      .define(BATCH_MAX_SIZE, Type.INT, 32, Range.atLeast(1), Importance.MEDIUM,
          "Most sequences in one encoder batch. On CPU, length-sorted batches of 8-32 are fastest per text;"
              + " raise it (64-256) on a GPU, where large batches pay 5-10x.")
      .define(BATCH_MAX_WAIT_MS, Type.LONG, 20L, Range.atLeast(0), Importance.MEDIUM,
          "Latency bound (ms): the oldest buffered record is inferred at the latest this long after it arrived.")
      .define(BATCH_MAX_QUEUED_TOKENS, Type.INT, 65536, Range.atLeast(1), Importance.LOW,
          "Backpressure: tokens that may wait for inference before stream threads block.")
      .define(BATCH_MAX_PADDING_RATIO, Type.DOUBLE, 1.5, Range.atLeast(1), Importance.LOW,
          "Padded tokens / real tokens of one encoder batch at most: a long text is not padded together with"
              + " many short ones (on CPU the padding costs more than the batching saves). 1 = only equal lengths"
              + " share a batch.")
      .define(BERT_FORWARD_INTERVAL_MS, Type.LONG, 5L, Range.atLeast(1), Importance.LOW,
          "How often (wall-clock ms) each stream task forwards the results the batcher has completed. Also"
              + " bounds Kafka Streams' poll.ms so that an idle stream thread still punctuates this often.")
      .define(BERT_MAX_PENDING_PER_TASK, Type.INT, 1024, Range.atLeast(1), Importance.LOW,
          "Most records one stream task keeps submitted but not yet forwarded. When reached, the task waits"
              + " for its oldest record's result before taking the next record (bounds memory when the head"
              + " of a partition is slow).")
      .define(INFERENCE_PROVIDER, Type.STRING, "cpu", ValidString.in("cpu", "cuda"), Importance.HIGH,
          "ONNX Runtime execution provider. 'cuda' needs the GPU build (mvn -Pgpu) and a CUDA device.")
      .define(INFERENCE_CUDA_DEVICE, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "CUDA device id when inference.provider=cuda.")
      .define(INFERENCE_INTRA_OP_THREADS, Type.INT, 0, Range.atLeast(0), Importance.MEDIUM,
          "ONNX Runtime intra-op threads per session; 0 = the number of available processors (one inference"
              + " runs at a time, on the batcher thread, so it may use every core).")
      .define(MODEL_CATALOG_DIR, Type.STRING, "", Importance.MEDIUM,
          "Extra model catalogue directory (one sub-directory per model id, each with model.json), searched"
              + " before the catalogue built into the nlpstream-models jar. Empty = the built-in catalogue only.")
      .define(MODEL_BERT, Type.STRING, "e5-small-ft", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Model id (in the catalogue) of the BERT stage: a bert-multihead bundle (an encoder with sentiment,"
              + " entity and class heads, or one fused graph) serving every role that model.sentiment,"
              + " model.entities and model.classes leave empty. Not loaded when all three are set.")
      .define(MODEL_SENTIMENT, Type.STRING, "", Importance.MEDIUM,
          "Model id (in the catalogue) that serves sentiment instead of model.bert: a bundle of kind"
              + " hf-sequence-classification (a Hugging Face ONNX export; its labels must map to negative, neutral,"
              + " positive: label_map in its model.json) or another bert-multihead bundle. Empty = model.bert."
              + " A model other than model.bert costs its own encoder pass per batch (first window of each text).")
      .define(MODEL_ENTITIES, Type.STRING, "", Importance.MEDIUM,
          "Model id (in the catalogue) that serves named entities instead of model.bert: a bundle of kind"
              + " hf-token-classification (a Hugging Face ONNX export, IOB labels; types other than PER, ORG, LOC,"
              + " MISC are ignored unless entity_types in its model.json maps them) or another bert-multihead"
              + " bundle. Empty = model.bert. A model other than model.bert costs its own encoder pass per batch"
              + " (every window of each text).")
      .define(MODEL_CLASSES, Type.STRING, "", Importance.MEDIUM,
          "Model id (in the catalogue) that serves the class labels instead of model.bert: a bundle of kind"
              + " hf-sequence-classification (its id2label names become the class labels, renamed by label_map in"
              + " its model.json) or another bert-multihead bundle. Empty = model.bert. A model other than"
              + " model.bert costs its own encoder pass per batch (first window of each text).")
      .define(ROUTING_RULES, Type.STRING, "source=chat&sentiment=negative->reply;words>150->summary",
          Importance.MEDIUM,
          "Rules that route enriched records to the GPT stage, tried in order, first match wins; a record's own"
              + " 'task' field always wins. Grammar: rule (';' rule)*, rule = cond ('&' cond)* '->' (summary|reply);"
              + " cond = textField ('=' | '!=') value | numberField ('>' | '>=' | '<' | '<=' | '=') integer;"
              + " textField = source | lang | sentiment (the sentiment label) | class (the top class label), compared"
              + " ignoring case; numberField = words (whitespace-separated words of the text) | entities | tokens."
              + " Whitespace around tokens is ignored; an empty rule between ';' is an error. Empty = no rules."
              + " Example: source=chat&sentiment=negative->reply;words>150->summary")
      .define(GPT_APPLICATION_ID, Type.STRING, "nlpstream-generate", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka Streams application id of the GPT stage (its own consumer group, stores and changelogs, so that it"
              + " scales apart from the BERT stage, e.g. on GPU nodes only: 'nlpstream run --stage gpt').")
      .define(TOPIC_SUMMARIES, Type.STRING, "text.summaries", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Output topic of the GPT stage for summary requests (schemas/generation.schema.json).")
      .define(TOPIC_REPLIES, Type.STRING, "text.replies", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Output topic of the GPT stage for reply requests (schemas/generation.schema.json).")
      .define(GPT_MODEL, Type.STRING, "minilm-gpt-dialog", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Model id (in the catalogue) of the GPT stage: a gpt-decoder bundle (a decoder-only language model with"
              + " past key values in the Hugging Face ONNX layout).")
      .define(MODEL_CACHE_DIR, Type.STRING, defaultModelCacheDir(), Importance.LOW,
          "Where gpt-decoder bundles packaged in the nlpstream-models jar are extracted (sha256-verified) for"
              + " ONNX Runtime, which loads them from files. Bundles in model.catalog.dir are used in place.")
      .define(GPT_MAX_BATCH_SIZE, Type.INT, 16, Range.atLeast(1), Importance.MEDIUM,
          "Most sequences the GPT stage decodes together (continuous batching: requests join and leave the running"
              + " batch at every step). 1 = one request at a time.")
      .define(GPT_MAX_BATCH_TOKENS, Type.INT, 8192, Range.atLeast(1), Importance.MEDIUM,
          "Token budget of the running generation batch: the sum over its sequences of prompt tokens +"
              + " max_new_tokens, reserved when a request joins (a running sequence is never evicted).")
      .define(GPT_MAX_QUEUED, Type.INT, 256, Range.atLeast(1), Importance.LOW,
          "Requests that may wait for a place in the generation batch. Beyond that the generator refuses new ones"
              + " and the stream tasks keep them in their buffer store and offer them again at the next punctuation"
              + " (a stream thread never blocks on the generator).")
      .define(GPT_MAX_NEW_TOKENS_SUMMARY, Type.INT, 64, Range.atLeast(1), Importance.MEDIUM,
          "Most tokens generated for one summary.")
      .define(GPT_MAX_NEW_TOKENS_REPLY, Type.INT, 40, Range.atLeast(1), Importance.MEDIUM,
          "Most tokens generated for one reply.")
      .define(GPT_TEMPERATURE, Type.DOUBLE, 0.0, Range.between(0, 100), Importance.MEDIUM,
          "Sampling temperature; 0 = greedy decoding (deterministic).")
      .define(GPT_TOP_K, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "Sample among the k most likely tokens only; 0 = no limit. Ignored when gpt.temperature=0.")
      .define(GPT_TOP_P, Type.DOUBLE, 1.0, Range.between(1e-9, 1.0), Importance.LOW,
          "Nucleus sampling: sample among the most likely tokens whose probability reaches p; 1 = no limit."
              + " Ignored when gpt.temperature=0.")
      .define(GPT_SEED, Type.LONG, 0L, Importance.LOW,
          "Seed of sampling. Each request draws from its own stream seeded with this and its input id, so a"
              + " request generated again (after an aborted transaction) gets the same text.")
      .define(GPT_PROMPT_STYLE, Type.STRING, "", ValidString.in("", "plain", "chatml"), Importance.MEDIUM,
          "Built-in prompt templates: plain (completion-style, base models) or chatml (Qwen-style instruct models)."
              + " Empty = the style the model's bundle names (prompt_templates in its model.json), else plain.")
      .define(GPT_TEMPLATE_SUMMARY, Type.STRING, "", Importance.LOW,
          "Custom prompt template of summaries, replacing the style's: any text with {input} exactly once where the"
              + " request text goes. It keeps the start of an overlong input and the style's stop strings. Empty ="
              + " the style's template.")
      .define(GPT_TEMPLATE_REPLY, Type.STRING, "", Importance.LOW,
          "Custom prompt template of replies, as gpt.template.summary; it keeps the end of an overlong"
              + " conversation. Empty = the style's template.")
      .define(GPT_STOP_STRINGS, Type.LIST, "", Importance.LOW,
          "Extra stop strings, comma-separated (Java properties escapes such as \\n apply in files): generation"
              + " stops when the text contains one, and the text is cut before it. Added to the template's own.")
      .define(GPT_FORWARD_INTERVAL_MS, Type.LONG, 10L, Range.atLeast(1), Importance.LOW,
          "How often (wall-clock ms) each GPT stream task offers waiting requests to the generator again and"
              + " forwards finished generations. Also the GPT stage's Kafka Streams poll.ms.")
      .define(GPT_MAX_PENDING_PER_TASK, Type.INT, 64, Range.atLeast(1), Importance.LOW,
          "Most requests one GPT stream task holds buffered (submitted or waiting). At the cap process() waits for"
              + " a generation to finish, at most gpt.max.block.ms, which slows Kafka's poll loop.")
      .define(GPT_MAX_BLOCK_MS, Type.LONG, 5000L, Range.atLeast(0), Importance.LOW,
          "Longest a GPT stream task waits in process() at gpt.max.pending.per.task before taking the request into"
              + " its buffer anyway; must stay well below the consumer's max.poll.interval.ms (300000 by default).")
      .define(GPT_ANSWERED_RETENTION_MS, Type.LONG, 7L * 24 * 3600 * 1000, Range.atLeast(60_000), Importance.MEDIUM,
          "Replay horizon of the GPT stage's answered store (ms): a request whose (input id, kind) was answered"
              + " within this time (by request timestamps) is not generated again and gets no second output. A"
              + " windowed store: older answers are dropped segment by segment, and its changelog is deleted after"
              + " this time plus a day. Default 7 days, Kafka's default log retention.")
      .define(METRICS_PORT, Type.INT, 9464, Range.between(-1, 65535), Importance.MEDIUM,
          "TCP port of the operations endpoint: /metrics (Prometheus text format), /health (liveness), /ready"
              + " (readiness). 0 = a free port chosen at start-up (logged); -1 = no endpoint.")
      .define(METRICS_BIND_ADDRESS, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Address the operations endpoint binds to. The default serves only this machine; in a container set"
              + " 0.0.0.0 so that probes and scrapers can reach it (the endpoint has no authentication: keep it on"
              + " a private network).");

  /**
   * {@code NLPSTREAM_*} environment variables that are not configuration keys: the launcher's JVM
   * options and the logging switches that log4j2.xml reads before any configuration is loaded.
   */
  public static final Set<String> NON_KEY_VARIABLES =
      Set.of("NLPSTREAM_JAVA_OPTS", "NLPSTREAM_LOG_FORMAT", "NLPSTREAM_LOG_LEVEL");

  /** What {@link #toString()} and every log line show instead of a secret value. */
  public static final String MASK = "[hidden]";

  private static final Pattern SECRET_NAME = Pattern.compile("password|secret|jaas|key|token|credential");

  /** Kafka client and Streams keys that Kafka itself types as passwords (e.g. ssl.truststore.certificates). */
  private static final Set<String> KAFKA_PASSWORD_KEYS = kafkaPasswordKeys();

  private NlpstreamConfig(Map<String, ?> props) {
    super(CONFIG, props, false);
    for (String key : props.keySet()) {
      if (!CONFIG.names().contains(key) && !key.startsWith(KAFKA_PREFIX)) {
        // Not ConfigException(name, value, ...): the value of a mistyped key may be a secret.
        throw new ConfigException("unknown configuration key '" + key + "' (known keys: see README 'Configuration';"
            + " Kafka client keys take the '" + KAFKA_PREFIX + "' prefix)");
      }
    }
  }

  /** Defaults plus {@code overrides}; validates every value. */
  public static NlpstreamConfig of(Map<String, ?> overrides) {
    return new NlpstreamConfig(new HashMap<>(overrides));
  }

  /**
   * Defaults, then {@code file} (if not null), then the environment ({@code NLPSTREAM_*}), then
   * {@code overrides}.
   */
  public static NlpstreamConfig load(Path file, Map<String, String> env, Map<String, ?> overrides) {
    Map<String, Object> props = new HashMap<>();
    if (file != null) {
      if (!Files.isRegularFile(file)) {
        throw new ConfigException("configuration file " + file + " does not exist or is not a file");
      }
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(file)) {
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read configuration file " + file, e);
      }
      p.stringPropertyNames().forEach(k -> props.put(k, p.getProperty(k).trim()));
    }
    props.putAll(fromEnvironment(env));
    props.putAll(overrides);
    return new NlpstreamConfig(props);
  }

  /**
   * Maps {@code NLPSTREAM_BATCH_MAX_TOKENS} to {@code batch.max.tokens} and
   * {@code NLPSTREAM_KAFKA_SASL_JAAS_CONFIG} to {@code kafka.sasl.jaas.config}. The only place that
   * reads configuration from the environment.
   */
  public static Map<String, String> fromEnvironment(Map<String, String> env) {
    Map<String, String> props = new HashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length() && !NON_KEY_VARIABLES.contains(name)) {
        String key = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        props.put(key, value);
      }
    });
    return props;
  }

  /** The {@value #KAFKA_PREFIX}-prefixed keys, prefix removed. */
  public Map<String, Object> kafkaOverrides() {
    return originalsWithPrefix(KAFKA_PREFIX, true);
  }

  /**
   * True for keys whose values must never be shown: our keys of type PASSWORD, {@value #KAFKA_PREFIX}
   * keys that Kafka types as passwords, and any {@value #KAFKA_PREFIX} key whose name contains
   * password, secret, jaas, key, token or credential (this also masks harmless ones such as
   * {@code kafka.ssl.keystore.location}: better than guessing wrong the other way).
   */
  public static boolean isSecret(String key) {
    ConfigDef.ConfigKey defined = CONFIG.configKeys().get(key);
    if (defined != null) {
      return defined.type == Type.PASSWORD;
    }
    if (!key.startsWith(KAFKA_PREFIX)) {
      return false;
    }
    String kafkaKey = key.substring(KAFKA_PREFIX.length());
    return KAFKA_PASSWORD_KEYS.contains(kafkaKey) || SECRET_NAME.matcher(kafkaKey.toLowerCase(Locale.ROOT)).find();
  }

  /**
   * Every key with its effective value (defaults included, {@value #KAFKA_PREFIX} keys as given),
   * sorted, secrets replaced by {@value #MASK}. What may be logged.
   */
  public Map<String, String> effectiveValues() {
    Map<String, String> out = new TreeMap<>();
    values().forEach((k, v) -> out.put(k, isSecret(k) ? MASK : ConfigDef.convertToString(v, CONFIG.configKeys().get(k).type)));
    originals().forEach((k, v) -> {
      if (k.startsWith(KAFKA_PREFIX)) {
        out.put(k, isSecret(k) ? MASK : String.valueOf(v));
      }
    });
    return out;
  }

  /** The {@link #effectiveValues()}, secrets masked: safe to log. */
  @Override
  public String toString() {
    return "NlpstreamConfig" + effectiveValues();
  }

  private static Set<String> kafkaPasswordKeys() {
    Set<String> keys = new HashSet<>();
    for (ConfigDef def : List.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef(),
        StreamsConfig.configDef())) {
      def.configKeys().values().stream().filter(k -> k.type == Type.PASSWORD).forEach(k -> keys.add(k.name));
    }
    return Set.copyOf(keys);
  }

  private static String defaultModelCacheDir() {
    return Path.of(System.getProperty("java.io.tmpdir"), "nlpstream-models").toString();
  }

  private static String defaultStateDir() {
    return Path.of(System.getProperty("java.io.tmpdir"), "nlpstream-state").toString();
  }
}
