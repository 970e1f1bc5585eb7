package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.testing.CapturedLogs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamsSettingsTest {

  @Test
  void derivesKafkaStreamsPropertiesFromTheConfiguration() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "b1:9092,b2:9092",
        NlpstreamConfig.STATE_DIR, "/var/lib/nlpstream", NlpstreamConfig.STREAM_THREADS, "3",
        NlpstreamConfig.TOPIC_DLQ, "my.dlq", NlpstreamConfig.BERT_FORWARD_INTERVAL_MS, "7"));
    Properties p = StreamsSettings.enrichment(config);
    StreamsConfig streams = new StreamsConfig(p);   // Kafka Streams accepts them as they are

    assertThat(streams.getList(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)).containsExactly("b1:9092", "b2:9092");
    assertThat(streams.getString(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("nlpstream-enrich");
    assertThat(streams.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo("exactly_once_v2");
    assertThat(streams.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(100L);
    assertThat(streams.getInt(StreamsConfig.NUM_STREAM_THREADS_CONFIG)).isEqualTo(3);
    assertThat(streams.getString(StreamsConfig.STATE_DIR_CONFIG)).isEqualTo("/var/lib/nlpstream");
    assertThat(streams.getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(1);
    assertThat(streams.getLong(StreamsConfig.POLL_MS_CONFIG)).isEqualTo(7L);
    assertThat(streams.getString(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG)).isEqualTo("my.dlq");
    assertThat(streams.processingExceptionHandler()).isInstanceOf(DeadLetterHandler.class);
    assertThat(streams.deserializationExceptionHandler()).isInstanceOf(DeadLetterHandler.class);
    assertThat(streams.productionExceptionHandler()).isInstanceOf(DeadLetterHandler.class);
    assertThat(streams.defaultKeySerde()).isInstanceOf(Serdes.ByteArraySerde.class);
    assertThat(streams.defaultValueSerde()).isInstanceOf(Serdes.ByteArraySerde.class);
  }

  /**
   * The client timeouts in effect (Kafka Streams' defaults, which StreamsSettings leaves alone) outlast
   * a 30 s broker outage plus the broker's restart, as README 'Faults and recovery' says and
   * BrokerOutageIT shows. A default that shrank one of them would make such an outage fatal.
   */
  @Test
  void effectiveTimeoutsOutlastAThirtySecondBrokerOutage() {
    long outageMs = 30_000;
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "b:9092"));
    StreamsConfig streams = new StreamsConfig(StreamsSettings.enrichment(config));
    assertThat(streams.getLong(StreamsConfig.TASK_TIMEOUT_MS_CONFIG)).isEqualTo(300_000L);

    Map<String, Object> producerSettings = new java.util.HashMap<>(streams.getProducerConfigs("client"));
    producerSettings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producerSettings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producerSettings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "t");
    ProducerConfig producer = new ProducerConfig(producerSettings);
    assertThat(producer.getInt(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).as("unbounded under exactly_once_v2")
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(producer.getLong(ProducerConfig.MAX_BLOCK_MS_CONFIG)).isEqualTo(60_000L)
        .isGreaterThan(outageMs + 15_000);
    assertThat(producer.getInt(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).isEqualTo(10_000);
  }

  @Test
  void kafkaPrefixedKeysOverrideEverything() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "b:9092",
        "kafka.processing.guarantee", "at_least_once", "kafka.security.protocol", "SSL",
        "kafka.poll.ms", "50"));
    Properties p = StreamsSettings.enrichment(config);
    assertThat(p).containsEntry("processing.guarantee", "at_least_once")
        .containsEntry("security.protocol", "SSL")
        .containsEntry("poll.ms", "50");
  }

  @Test
  void withTheStageTheHandlerCountsIntoTheStagesCounters() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "b:9092"));
    ScriptedAnalyzer analyzer = new ScriptedAnalyzer();
    try (BertStage stage = BertStage.start(analyzer, config)) {
      assertThat(StreamsSettings.enrichment(config, stage)).containsEntry(StreamsSettings.COUNTERS, stage.counters());
    }
  }

  /**
   * Kafka Streams 4.4 warns "Processing exception handler is not enabled for the GlobalThread" from
   * the StreamsConfig its partition assignor derives from the main consumer's configuration. A real
   * client built with our properties (both stages') must start without it: the warning is noise in
   * every log, and would hide a real one.
   */
  @Test
  void aKafkaStreamsClientWithTheseSettingsDoesNotWarnAboutTheGlobalThread(@TempDir Path state) {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "127.0.0.1:1",
        NlpstreamConfig.STATE_DIR, state.toString()));
    try (GptStage stage = GptStage.start(new ScriptedGenerator(), config)) {
      for (Properties p : List.of(StreamsSettings.enrichment(config), StreamsSettings.generation(config, stage))) {
        Topology topology = new Topology();
        topology.addSource("in", "in").addSink("out", "out", "in");
        try (CapturedLogs logs = CapturedLogs.start()) {
          KafkaStreams streams = new KafkaStreams(topology, p);   // builds the consumers and their assignor
          streams.close(Duration.ofSeconds(10));
          assertThat(logs.lines()).as("the client was built and logged").isNotEmpty();
          assertThat(logs.lines()).noneSatisfy(l -> assertThat(l.message()).contains("GlobalThread"));
        }
      }
    }
  }

  @Test
  void bootstrapServersAreRequired() {
    assertThatThrownBy(() -> StreamsSettings.enrichment(NlpstreamConfig.of(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(NlpstreamConfig.BOOTSTRAP_SERVERS);
  }

  @Test
  void inconsistentBatchKeysFailAtStartNamingThem() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BATCH_MAX_TOKENS, "4096",
        NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS, "1024"));
    assertThatThrownBy(() -> BertStage.start(new ScriptedAnalyzer(), config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS)
        .hasMessageContaining(NlpstreamConfig.BATCH_MAX_TOKENS);
  }
}
