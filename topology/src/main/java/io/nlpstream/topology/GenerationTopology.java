package io.nlpstream.topology;

import io.nlpstream.config.NlpstreamConfig;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The GPT-stage topology, run by its own Kafka Streams client under its own application id
 * ({@code gpt.application.id}), so that it scales apart from the BERT stage:
 * <pre>
 * topic.gpt.requests --(bytes)--&gt; generate [buffer store, answered store] --&gt; topic.summaries
 *                                      |                                   \--&gt; topic.replies
 *                                      \--&gt; topic.dlq
 * </pre>
 * {@code generate}: {@link GenerationProcessor} over a changelogged key-value store of the requests
 * in flight and a changelogged window store of the requests answered. Unexpected exceptions are
 * handled by {@link DeadLetterHandler} (configured by {@link StreamsSettings#generation}).
 *
 * <p>Output keys are strings (the input id); values are JSON ({@link RecordJson}).
 */
public final class GenerationTopology {

  public static final String SOURCE_NODE = "gpt-request-source";
  public static final String GENERATE_NODE = "generate";
  public static final String SUMMARIES_SINK = "summaries-sink";
  public static final String REPLIES_SINK = "replies-sink";
  public static final String DEAD_LETTER_SINK = "gpt-dead-letter-sink";
  /** Requests in flight; changelog {@code <gpt.application.id>-gpt-buffer-changelog}. */
  public static final String BUFFER_STORE = "gpt-buffer";
  /** Requests answered, for {@code gpt.answered.retention.ms}; changelog {@code <gpt.application.id>-gpt-answered-changelog}. */
  public static final String ANSWERED_STORE = "gpt-answered";

  private GenerationTopology() {}

  /** Builds the topology; a pure function of its arguments (TopologyTestDriver drives the real one). */
  public static Topology create(NlpstreamConfig config, GptStage stage) {
    GptRequestParser parser = GptRequestParser.from(config);
    Duration forwardInterval = Duration.ofMillis(config.getLong(NlpstreamConfig.GPT_FORWARD_INTERVAL_MS));
    int maxPending = config.getInt(NlpstreamConfig.GPT_MAX_PENDING_PER_TASK);
    Duration maxBlock = Duration.ofMillis(config.getLong(NlpstreamConfig.GPT_MAX_BLOCK_MS));
    Duration retention = Duration.ofMillis(config.getLong(NlpstreamConfig.GPT_ANSWERED_RETENTION_MS));
    Serializer<String> keys = new StringSerializer();
    Serializer<Object> values = RecordJson.serializer();

    Topology topology = new Topology();
    topology.addSource(SOURCE_NODE, new ByteArrayDeserializer(), new ByteArrayDeserializer(),
        config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS));
    topology.addProcessor(GENERATE_NODE, () -> new GenerationProcessor(stage, parser, BUFFER_STORE, ANSWERED_STORE,
        forwardInterval, maxPending, maxBlock, retention, SUMMARIES_SINK, REPLIES_SINK, DEAD_LETTER_SINK), SOURCE_NODE);
    topology.addStateStore(bufferStore(), GENERATE_NODE);
    topology.addStateStore(answeredStore(retention), GENERATE_NODE);
    topology.addSink(SUMMARIES_SINK, config.getString(NlpstreamConfig.TOPIC_SUMMARIES), keys, values, GENERATE_NODE);
    topology.addSink(REPLIES_SINK, config.getString(NlpstreamConfig.TOPIC_REPLIES), keys, values, GENERATE_NODE);
    topology.addSink(DEAD_LETTER_SINK, config.getString(NlpstreamConfig.TOPIC_DLQ), keys, values, GENERATE_NODE);
    return topology;
  }

  /** As the BERT stage's buffer: persistent, changelogged (compacted), cached (put/delete pairs collapse). */
  static StoreBuilder<KeyValueStore<RequestKey, SourceRecord>> bufferStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), RequestKey.serde(),
            RecordJson.serde(SourceRecord.class))
        .withCachingEnabled()
        .withLoggingEnabled(Map.of());
  }

  /**
   * A persistent window store whose window start is the request's timestamp: Kafka Streams drops
   * whole segments once stream time has moved past them by the retention, and its changelog
   * (compact + delete) drops them too, so the store stays bounded by the requests of one retention
   * period. Not cached: every answer is written once.
   */
  static StoreBuilder<WindowStore<RequestKey, Answer>> answeredStore(Duration retention) {
    return Stores.windowStoreBuilder(
            Stores.persistentWindowStore(ANSWERED_STORE, retention, Duration.ofMillis(1), false),
            RequestKey.serde(), RecordJson.serde(Answer.class))
        .withCachingDisabled()
        .withLoggingEnabled(Map.of());
  }
}
