package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.config.NlpstreamConfig;
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
 * The real GPT-stage topology, {@link GptStage} and {@link StreamsSettings#generation} under
 * {@link TopologyTestDriver}, over a {@link ScriptedGenerator}. Every record read from an output
 * topic is validated against its schema.
 */
final class GenerationHarness implements AutoCloseable {

  static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  final NlpstreamConfig config;
  final GptStage stage;
  final TopologyTestDriver driver;
  final TestInputTopic<byte[], byte[]> requests;
  private final TestOutputTopic<String, byte[]> summariesTopic;
  private final TestOutputTopic<String, byte[]> repliesTopic;
  private final TestOutputTopic<String, byte[]> deadLetterTopic;
  final List<TestRecord<String, JsonNode>> summaries = new ArrayList<>();
  final List<TestRecord<String, JsonNode>> replies = new ArrayList<>();
  final List<TestRecord<String, JsonNode>> deadLetters = new ArrayList<>();
  private final Duration tick;

  GenerationHarness(ScriptedGenerator generator, Path stateDir, Map<String, ?> overrides) {
    Map<String, Object> props = new HashMap<>();
    props.put(NlpstreamConfig.BOOTSTRAP_SERVERS, "unused:9092");
    props.put(NlpstreamConfig.STATE_DIR, stateDir.toString());
    props.putAll(overrides);
    this.config = NlpstreamConfig.of(props);
    this.stage = GptStage.start(generator, config);
    this.driver = new TopologyTestDriver(GenerationTopology.create(config, stage),
        StreamsSettings.generation(config, stage), T0);
    this.requests = driver.createInputTopic(config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS),
        new ByteArraySerializer(), new ByteArraySerializer(), T0, Duration.ofMillis(1));
    this.summariesTopic = output(NlpstreamConfig.TOPIC_SUMMARIES);
    this.repliesTopic = output(NlpstreamConfig.TOPIC_REPLIES);
    this.deadLetterTopic = output(NlpstreamConfig.TOPIC_DLQ);
    this.tick = Duration.ofMillis(config.getLong(NlpstreamConfig.GPT_FORWARD_INTERVAL_MS));
  }

  private TestOutputTopic<String, byte[]> output(String key) {
    return driver.createOutputTopic(config.getString(key), new StringDeserializer(), new ByteArrayDeserializer());
  }

  static String request(String inputId, String kind, String text) {
    return "{\"input_id\":\"" + inputId + "\",\"kind\":\"" + kind + "\",\"text\":\"" + text
        + "\",\"routed_by\":\"task\",\"sentiment\":{\"label\":\"neutral\",\"score\":0.9},\"classes\":[]}";
  }

  void pipe(String json) {
    requests.pipeInput(json.getBytes(StandardCharsets.UTF_8));
  }

  void pipe(String key, String json, Instant timestamp) {
    requests.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        json == null ? null : json.getBytes(StandardCharsets.UTF_8), timestamp);
  }

  void pump() {
    driver.advanceWallClockTime(tick);
    collect();
  }

  void collect() {
    read(summariesTopic, RecordSchemas.GENERATION, summaries);
    read(repliesTopic, RecordSchemas.GENERATION, replies);
    read(deadLetterTopic, RecordSchemas.DEAD_LETTER, deadLetters);
  }

  private static void read(TestOutputTopic<String, byte[]> topic, String schema, List<TestRecord<String, JsonNode>> into) {
    for (TestRecord<String, byte[]> r : topic.readRecordsToList()) {
      into.add(new TestRecord<>(r.key(), RecordSchemas.assertValid(schema, r.value()), r.headers(), r.getRecordTime()));
    }
  }

  int outputs() {
    return summaries.size() + replies.size() + deadLetters.size();
  }

  void pumpUntil(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    collect();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for " + what + "; have summaries=" + summaries.size() + " replies=" + replies.size()
            + " dead letters=" + deadLetters.size() + ", buffered=" + buffered());
      }
      pump();
      Thread.onSpinWait();
    }
  }

  /** Pumps until the buffer store is empty, then checks that one more punctuation adds nothing. */
  void settle() {
    pumpUntil("an empty buffer store", () -> buffered().isEmpty());
    int before = outputs();
    pump();
    assertThat(outputs()).isEqualTo(before);
  }

  List<KeyValue<RequestKey, SourceRecord>> buffered() {
    KeyValueStore<RequestKey, SourceRecord> store = driver.getKeyValueStore(GenerationTopology.BUFFER_STORE);
    List<KeyValue<RequestKey, SourceRecord>> all = new ArrayList<>();
    try (KeyValueIterator<RequestKey, SourceRecord> it = store.all()) {
      it.forEachRemaining(all::add);
    }
    return all;
  }

  @Override
  public void close() {
    driver.close();
    stage.close();
  }
}
