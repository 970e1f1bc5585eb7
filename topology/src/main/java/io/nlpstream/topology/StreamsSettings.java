package io.nlpstream.topology;

import io.nlpstream.config.NlpstreamConfig;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka Streams properties of the enrichment application, derived from {@link NlpstreamConfig}:
 * <ul>
 *   <li>{@code bootstrap.servers}, {@code application.id}, {@code processing.guarantee} (default
 *       {@code exactly_once_v2}), {@code commit.interval.ms}, {@code num.stream.threads},
 *       {@code state.dir};</li>
 *   <li>{@code replication.factor} of internal topics (the buffer store's changelog) =
 *       {@code topic.replication.factor}, 1 by default, so a single-broker cluster works;</li>
 *   <li>byte-array default serdes (the topology names its serdes per node; inputs are read as bytes
 *       so that the parse step, not a deserializer, sees invalid UTF-8 and bad JSON);</li>
 *   <li>{@link DeadLetterHandler} as processing, deserialization and production exception handler,
 *       with {@code errors.dead.letter.queue.topic.name} = {@code topic.dlq}; the processing handler
 *       also for global processing (Kafka 5.0's default), told to the main consumer too so that its
 *       assignor does not warn about it;</li>
 *   <li>{@code poll.ms} = {@code bert.forward.interval.ms}: an idle stream thread blocks in poll at
 *       most that long, so wall-clock punctuations that forward finished results are not delayed by
 *       the default 100 ms;</li>
 *   <li>finally the {@code kafka.*} keys, prefix removed, which override everything above.</li>
 * </ul>
 *
 * <p>Timeouts are left at Kafka Streams' defaults on purpose: they ride out a broker outage of 30 s
 * (measured by {@code BrokerOutageIT}, guarded by {@code StreamsSettingsTest}). Under
 * {@code exactly_once_v2} the producer's {@code delivery.timeout.ms} is unbounded, a send or a
 * transaction commit blocks at most {@code max.block.ms} (60 s), and a task may stall on retriable
 * errors for {@code task.timeout.ms} (300 s) before the client fails; the transaction timeout (10 s)
 * only decides how soon a dead instance's open transaction is aborted.
 */
public final class StreamsSettings {

  /**
   * Property under which {@link #enrichment(NlpstreamConfig, BertStage)} passes the stage's
   * {@link PipelineCounters} to the {@link DeadLetterHandler} (Kafka Streams hands the handlers the
   * original properties, objects included).
   */
  public static final String COUNTERS = "nlpstream.pipeline.counters";

  private StreamsSettings() {}

  /**
   * Properties without counters: dead letters made by the exception handler are then not counted
   * in {@link PipelineCounters} (they are still produced, and counted by Kafka Streams'
   * {@code dropped-records} metric). Prefer {@link #enrichment(NlpstreamConfig, BertStage)}.
   *
   * @throws ConfigException when {@code bootstrap.servers} is empty
   */
  public static Properties enrichment(NlpstreamConfig config) {
    return common(config, config.getString(NlpstreamConfig.APPLICATION_ID),
        config.getLong(NlpstreamConfig.BERT_FORWARD_INTERVAL_MS));
  }

  /** {@link #enrichment(NlpstreamConfig)} plus the stage's counters for the dead-letter handler. */
  public static Properties enrichment(NlpstreamConfig config, BertStage stage) {
    Properties p = enrichment(config);
    p.put(COUNTERS, stage.counters());
    return p;
  }

  /**
   * Properties of the GPT stage's own Kafka Streams client: as {@link #enrichment(NlpstreamConfig)},
   * but {@code application.id} = {@code gpt.application.id} and {@code poll.ms} =
   * {@code gpt.forward.interval.ms}; the stage's {@link GenerationCounters} for the handler.
   *
   * @throws ConfigException when {@code bootstrap.servers} is empty
   */
  public static Properties generation(NlpstreamConfig config, GptStage stage) {
    Properties p = common(config, config.getString(NlpstreamConfig.GPT_APPLICATION_ID),
        config.getLong(NlpstreamConfig.GPT_FORWARD_INTERVAL_MS));
    p.put(COUNTERS, stage.counters());
    return p;
  }

  private static Properties common(NlpstreamConfig config, String applicationId, long pollMs) {
    String bootstrap = config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS);
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new ConfigException(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
          "required to run the enrichment topology (host:port,...)");
    }
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.getString(NlpstreamConfig.PROCESSING_GUARANTEE));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.getLong(NlpstreamConfig.COMMIT_INTERVAL_MS));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.getInt(NlpstreamConfig.STREAM_THREADS));
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.getString(NlpstreamConfig.STATE_DIR));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.getShort(NlpstreamConfig.TOPIC_REPLICATION_FACTOR));
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
    // No global stores here; enabling it matches Kafka 5.0's default.
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    // Kafka Streams' partition assignor builds a StreamsConfig of its own from the main consumer's
    // configuration, which does not carry the key above, and that config warns "Processing exception
    // handler is not enabled for the GlobalThread" on every start (Kafka 4.4). The key is not a
    // topology setting, so a TopologyConfig does not help; handing it to the main consumer does.
    p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
    p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
    p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, config.getString(NlpstreamConfig.TOPIC_DLQ));
    p.put(StreamsConfig.POLL_MS_CONFIG, pollMs);
    p.putAll(config.kafkaOverrides());
    return p;
  }
}
