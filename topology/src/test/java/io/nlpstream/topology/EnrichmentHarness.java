package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.bert.TextAnalyzer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The real enrichment topology, real {@link BertStage} and real {@link StreamsSettings} under
 * {@link TopologyTestDriver}. Every record read from an output topic is validated against its schema.
 * Results arrive asynchronously (the batcher thread), so the harness pumps wall-clock time until the
 * expected records are there, with a generous deadline (a liveness bound, not a speed assertion).
 */
final class EnrichmentHarness implements AutoCloseable {

  static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  final NlpstreamConfig config;
  final BertStage stage;
  final TopologyTestDriver driver;
  final TestInputTopic<byte[], byte[]> input;
  private final TestOutputTopic<String, byte[]> enrichedTopic;
  private final TestOutputTopic<String, byte[]> deadLetterTopic;
  private final TestOutputTopic<String, byte[]> gptTopic;
  final List<TestRecord<String, JsonNode>> enriched = new ArrayList<>();
  final List<TestRecord<String, JsonNode>> deadLetters = new ArrayList<>();
  final List<TestRecord<String, JsonNode>> gptRequests = new ArrayList<>();
  private final Duration tick;

  EnrichmentHarness(TextAnalyzer analyzer, Path stateDir, Map<String, ?> overrides) {
    Map<String, Object> props = new HashMap<>();
    props.put(NlpstreamConfig.BOOTSTRAP_SERVERS, "unused:9092");
    props.put(NlpstreamConfig.STATE_DIR, stateDir.toString());
    props.put(NlpstreamConfig.APPLICATION_ID, "nlpstream-test");
    props.putAll(overrides);
    this.config = NlpstreamConfig.of(props);
    this.stage = BertStage.start(analyzer, config);
    this.driver = new TopologyTestDriver(EnrichmentTopology.create(config, stage),
        StreamsSettings.enrichment(config, stage), T0);
    this.input = driver.createInputTopic(config.getString(NlpstreamConfig.TOPIC_INPUT), new ByteArraySerializer(),
        new ByteArraySerializer(), T0, Duration.ofMillis(1));
    this.enrichedTopic = output(NlpstreamConfig.TOPIC_ENRICHED);
    this.deadLetterTopic = output(NlpstreamConfig.TOPIC_DLQ);
    this.gptTopic = output(NlpstreamConfig.TOPIC_GPT_REQUESTS);
    this.tick = Duration.ofMillis(config.getLong(NlpstreamConfig.BERT_FORWARD_INTERVAL_MS));
  }

  private TestOutputTopic<String, byte[]> output(String key) {
    return driver.createOutputTopic(config.getString(key), new StringDeserializer(), new ByteArrayDeserializer());
  }

  void pipe(String json) {
    input.pipeInput(json.getBytes(StandardCharsets.UTF_8));
  }

  void pipe(byte[] key, byte[] value) {
    input.pipeInput(key, value);
  }

  /** Advances wall-clock time by one forward interval (fires the punctuation) and collects outputs. */
  void pump() {
    driver.advanceWallClockTime(tick);
    collect();
  }

  void collect() {
    read(enrichedTopic, RecordSchemas.ENRICHED_EVENT, enriched);
    read(deadLetterTopic, RecordSchemas.DEAD_LETTER, deadLetters);
    read(gptTopic, RecordSchemas.GPT_REQUEST, gptRequests);
  }

  private static void read(TestOutputTopic<String, byte[]> topic, String schema,
                           List<TestRecord<String, JsonNode>> into) {
    for (TestRecord<String, byte[]> r : topic.readRecordsToList()) {
      JsonNode value = RecordSchemas.assertValid(schema, r.value());
      into.add(new TestRecord<>(r.key(), value, r.headers(), r.getRecordTime()));
    }
  }

  /** Pumps until {@code condition} holds; fails after the deadline. */
  void pumpUntil(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    collect();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for " + what + "; have enriched=" + enriched.size() + " dead letters="
            + deadLetters.size() + " gpt=" + gptRequests.size() + ", buffered=" + buffered());
      }
      pump();
      Thread.onSpinWait();
    }
  }

  /**
   * Pumps until the buffer store is empty (every submitted record forwarded), then checks that one
   * more punctuation adds nothing: what was collected is all there is.
   */
  void settle() {
    pumpUntil("an empty buffer store", () -> buffered().isEmpty());
    int e = enriched.size();
    int d = deadLetters.size();
    int g = gptRequests.size();
    pump();
    assertThat(List.of(enriched.size(), deadLetters.size(), gptRequests.size())).containsExactly(e, d, g);
  }

  /** Contents of the buffer store, in key order. */
  List<KeyValue<BufferKey, SourceRecord>> buffered() {
    KeyValueStore<BufferKey, SourceRecord> store = driver.getKeyValueStore(EnrichmentTopology.BUFFER_STORE);
    List<KeyValue<BufferKey, SourceRecord>> all = new ArrayList<>();
    try (KeyValueIterator<BufferKey, SourceRecord> it = store.all()) {
      it.forEachRemaining(all::add);
    }
    return all;
  }

  @Override
  public void close() {
    try {
      driver.close();
    } finally {
      stage.close();
    }
  }
}
