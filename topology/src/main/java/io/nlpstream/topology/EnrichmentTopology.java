package io.nlpstream.topology;

import io.nlpstream.config.NlpstreamConfig;
import java.time.Duration;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The BERT-stage topology:
 * <pre>
 * topic.input --(bytes)--&gt; parse --&gt; bert [buffer store] --&gt; topic.enriched
 *                             |          |   \--&gt; route --&gt; topic.gpt.requests
 *                             \----------+--&gt; topic.dlq
 * </pre>
 * {@code parse}: size check, strict UTF-8, JSON validation ({@link TextEventParser}); refused records
 * go to the dead-letter topic. {@code bert}: the batching processor ({@link EnrichmentProcessor}) over
 * a changelogged persistent store. {@code route}: {@link RoutingRules}. Unexpected exceptions are
 * handled by {@link DeadLetterHandler} (configured by {@link StreamsSettings}).
 *
 * <p>Output keys are strings (the event id); values are JSON ({@link RecordJson}).
 */
public final class EnrichmentTopology {

  public static final String SOURCE_NODE = "text-source";
  public static final String PARSE_NODE = "parse";
  public static final String BERT_NODE = "bert";
  public static final String ROUTE_NODE = "route";
  public static final String ENRICHED_SINK = "enriched-sink";
  public static final String GPT_REQUESTS_SINK = "gpt-requests-sink";
  public static final String DEAD_LETTER_SINK = "dead-letter-sink";
  /** The BERT stage's buffer of records in flight; its changelog is {@code <application.id>-bert-buffer-changelog}. */
  public static final String BUFFER_STORE = "bert-buffer";

  private EnrichmentTopology() {}

  /**
   * Builds the topology. A pure function of its arguments: it starts nothing and can be driven by
   * {@code TopologyTestDriver} as well as by {@code KafkaStreams}.
   *
   * @throws org.apache.kafka.common.config.ConfigException if {@code routing.rules} does not parse
   *         (the message names the key, the rule and the bad part)
   */
  public static Topology create(NlpstreamConfig config, BertStage stage) {
    RoutingRules rules = RoutingRules.parse(config.getString(NlpstreamConfig.ROUTING_RULES));
    TextEventParser parser = TextEventParser.from(config);
    Duration forwardInterval = Duration.ofMillis(config.getLong(NlpstreamConfig.BERT_FORWARD_INTERVAL_MS));
    int maxPending = config.getInt(NlpstreamConfig.BERT_MAX_PENDING_PER_TASK);
    PipelineCounters counters = stage.counters();
    Serializer<String> keys = new StringSerializer();
    Serializer<Object> values = RecordJson.serializer();

    Topology topology = new Topology();
    topology.addSource(SOURCE_NODE, new ByteArrayDeserializer(), new ByteArrayDeserializer(),
        config.getString(NlpstreamConfig.TOPIC_INPUT));
    topology.addProcessor(PARSE_NODE, () -> new ParseProcessor(parser, counters, BERT_NODE, DEAD_LETTER_SINK),
        SOURCE_NODE);
    topology.addProcessor(BERT_NODE, () -> new EnrichmentProcessor(stage, parser, BUFFER_STORE, forwardInterval,
        maxPending, ENRICHED_SINK, ROUTE_NODE, DEAD_LETTER_SINK), PARSE_NODE);
    topology.addStateStore(bufferStore(), BERT_NODE);
    topology.addProcessor(ROUTE_NODE, () -> new RoutingProcessor(rules, counters), BERT_NODE);
    topology.addSink(ENRICHED_SINK, config.getString(NlpstreamConfig.TOPIC_ENRICHED), keys, values, BERT_NODE);
    topology.addSink(GPT_REQUESTS_SINK, config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS), keys, values,
        ROUTE_NODE);
    topology.addSink(DEAD_LETTER_SINK, config.getString(NlpstreamConfig.TOPIC_DLQ), keys, values,
        PARSE_NODE, BERT_NODE);
    return topology;
  }

  /**
   * Persistent (RocksDB), changelogged (compacted topic, so a restore replays only what is still
   * buffered), cached: most records are put and deleted within one commit interval, and the cache
   * collapses such pairs before they reach the changelog. The cache is flushed before every commit,
   * so caching does not weaken durability.
   */
  static StoreBuilder<KeyValueStore<BufferKey, SourceRecord>> bufferStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), BufferKey.serde(),
            RecordJson.serde(SourceRecord.class))
        .withCachingEnabled()
        .withLoggingEnabled(java.util.Map.of());
  }

  /**
   * The pipeline stage a processor node of this or the {@link GenerationTopology} belongs to (for
   * dead letters made by the exception handler).
   */
  static Stage stageOf(String node) {
    if (node == null) {
      return Stage.BERT;
    }
    return switch (node) {
      case SOURCE_NODE -> Stage.DESERIALIZE;
      case PARSE_NODE -> Stage.PARSE;
      case ROUTE_NODE -> Stage.ROUTE;
      case ENRICHED_SINK, GPT_REQUESTS_SINK, DEAD_LETTER_SINK -> Stage.PRODUCE;
      case GenerationTopology.SOURCE_NODE -> Stage.DESERIALIZE;
      case GenerationTopology.GENERATE_NODE -> Stage.GPT;
      case GenerationTopology.SUMMARIES_SINK, GenerationTopology.REPLIES_SINK, GenerationTopology.DEAD_LETTER_SINK ->
          Stage.PRODUCE;
      default -> Stage.BERT;
    };
  }
}
