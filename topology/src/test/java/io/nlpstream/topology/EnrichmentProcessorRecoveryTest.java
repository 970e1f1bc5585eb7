package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore path of the BERT stage, at processor level over a real persistent (RocksDB) store in
 * a real state directory: an instance closes with records still buffered (its analyzer never
 * answered), and a new instance over the same state resubmits and forwards them. TopologyTestDriver
 * cannot show this: it wipes its state directory on close. Restoring the store itself from the
 * changelog is Kafka Streams' job; what is ours is resubmitting what the store holds.
 */
class EnrichmentProcessorRecoveryTest {

  private static final TaskId TASK = new TaskId(0, 0);

  @TempDir
  Path stateDir;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** One stream task's BERT node: context, store and processor over {@link #stateDir}. */
  private final class TaskInstance {
    final MockProcessorContext<String, Object> context;
    final KeyValueStore<BufferKey, SourceRecord> store;
    final EnrichmentProcessor processor;
    final TextEventParser parser;

    TaskInstance(BertStage stage, NlpstreamConfig config) {
      Properties props = StreamsSettings.enrichment(config);
      context = new MockProcessorContext<>(props, TASK, stateDir.toFile());
      context.setCurrentSystemTimeMs(1_714_564_800_000L);
      store = EnrichmentTopology.bufferStore().withCachingDisabled().withLoggingDisabled().build();
      store.init(context.getStateStoreContext(), store);
      parser = TextEventParser.from(config);
      processor = new EnrichmentProcessor(stage, parser, EnrichmentTopology.BUFFER_STORE, Duration.ofMillis(5),
          config.getInt(NlpstreamConfig.BERT_MAX_PENDING_PER_TASK), EnrichmentTopology.ENRICHED_SINK,
          EnrichmentTopology.ROUTE_NODE, EnrichmentTopology.DEAD_LETTER_SINK);
    }

    void process(long offset, String json) {
      byte[] value = json.getBytes(StandardCharsets.UTF_8);
      SourceRecord origin = new SourceRecord("text.in", 0, offset, 1000 + offset, null, value);
      TextEvent event = ((ParseResult.Accepted) parser.parse(origin)).event();
      processor.process(new Record<>(event.id(), new ParsedInput(origin, event), origin.timestamp()));
    }

    void punctuate() {
      context.scheduledPunctuators().forEach(p -> p.getPunctuator().punctuate(System.currentTimeMillis()));
    }

    void punctuateUntil(String what, BooleanSupplier condition) {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!condition.getAsBoolean()) {
        if (System.nanoTime() > deadline) {
          fail("timed out waiting for " + what);
        }
        punctuate();
        Thread.onSpinWait();
      }
    }

    List<String> keysForwardedTo(String child) {
      List<String> keys = new ArrayList<>();
      context.forwarded(child).forEach(f -> keys.add(f.record().key()));
      return keys;
    }

    List<Long> bufferedOffsets() {
      List<Long> offsets = new ArrayList<>();
      try (KeyValueIterator<BufferKey, SourceRecord> it = store.all()) {
        it.forEachRemaining((KeyValue<BufferKey, SourceRecord> kv) -> offsets.add(kv.key.offset()));
      }
      return offsets;
    }

    /** As when Kafka Streams closes the task: processor first, then the store (flushed to disk). */
    void close() {
      processor.close();
      store.commit(Map.of());   // as Kafka Streams does at a commit: RocksDB data reaches disk
      store.close();
    }
  }

  private static NlpstreamConfig config(Map<String, Object> overrides) {
    Map<String, Object> props = new HashMap<>(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "unused:9092"));
    props.putAll(overrides);
    return NlpstreamConfig.of(props);
  }

  private BertStage stage(ScriptedAnalyzer analyzer, NlpstreamConfig config) {
    BertStage stage = BertStage.start(analyzer, config);
    toClose.add(stage);
    toClose.add(analyzer::open);   // closed in reverse: opens the gate so that the stage's worker can end
    return stage;
  }

  @Test
  void recordsLeftInTheStoreAreResubmittedAndForwardedInOrderByTheNextInstance() {
    NlpstreamConfig config = config(Map.of());
    ScriptedAnalyzer neverAnswers = new ScriptedAnalyzer();
    TaskInstance first = new TaskInstance(stage(neverAnswers, config), config);
    first.processor.init(first.context);
    for (long offset = 0; offset < 5; offset++) {
      first.process(offset, "{\"id\":\"e" + offset + "\",\"text\":\"gated text number " + offset + "\"}");
    }
    for (int i = 0; i < 10; i++) {
      first.punctuate();
    }
    assertThat(first.context.forwarded()).isEmpty();
    assertThat(first.bufferedOffsets()).containsExactly(0L, 1L, 2L, 3L, 4L);
    first.close();

    ScriptedAnalyzer answers = new ScriptedAnalyzer();
    answers.open();
    TaskInstance second = new TaskInstance(stage(answers, config), config);
    assertThat(second.bufferedOffsets()).as("the buffer survives on disk").containsExactly(0L, 1L, 2L, 3L, 4L);
    second.processor.init(second.context);
    second.process(5, "{\"id\":\"e5\",\"text\":\"a new record after the restart\"}");

    second.punctuateUntil("6 enriched records", () -> second.context.forwarded(EnrichmentTopology.ENRICHED_SINK).size() == 6);
    assertThat(second.keysForwardedTo(EnrichmentTopology.ENRICHED_SINK)).containsExactly("e0", "e1", "e2", "e3", "e4", "e5");
    assertThat(second.keysForwardedTo(EnrichmentTopology.ROUTE_NODE)).containsExactly("e0", "e1", "e2", "e3", "e4", "e5");
    assertThat(second.context.forwarded(EnrichmentTopology.DEAD_LETTER_SINK)).isEmpty();
    EnrichedEvent e3 = (EnrichedEvent) second.context.forwarded(EnrichmentTopology.ENRICHED_SINK).get(3).record().value();
    assertThat(e3.text()).isEqualTo("gated text number 3");
    assertThat(e3.sentiment()).isEqualTo(ScriptedAnalyzer.expected("gated text number 3").sentiment());
    assertThat(e3.sourceOffset().offset()).isEqualTo(3);
    assertThat(second.context.forwarded(EnrichmentTopology.ENRICHED_SINK).get(3).record().timestamp()).isEqualTo(1003);
    assertThat(second.bufferedOffsets()).isEmpty();
    // Restored records were resubmitted before the new one.
    assertThat(answers.started).contains("gated text number 0", "a new record after the restart");
    assertThat(answers.batches.get(0)).contains("gated text number 0");
    second.close();
  }

  @Test
  void aRedeliveredRecordThatIsStillBufferedIsNotSubmittedTwice() {
    NlpstreamConfig config = config(Map.of());
    ScriptedAnalyzer neverAnswers = new ScriptedAnalyzer();
    TaskInstance first = new TaskInstance(stage(neverAnswers, config), config);
    first.processor.init(first.context);
    first.process(0, "{\"id\":\"e0\",\"text\":\"gated\"}");
    first.close();

    ScriptedAnalyzer answers = new ScriptedAnalyzer();
    answers.open();
    TaskInstance second = new TaskInstance(stage(answers, config), config);
    second.processor.init(second.context);
    second.process(0, "{\"id\":\"e0\",\"text\":\"gated\"}");   // at-least-once redelivery of offset 0
    second.process(1, "{\"id\":\"e1\",\"text\":\"next\"}");
    second.punctuateUntil("2 enriched records", () -> second.context.forwarded(EnrichmentTopology.ENRICHED_SINK).size() >= 2);
    second.punctuate();
    assertThat(second.keysForwardedTo(EnrichmentTopology.ENRICHED_SINK)).containsExactly("e0", "e1");
    second.close();
  }

  @Test
  void aRestoredRecordThatNoLongerParsesIsDeadLetteredInItsTurn() {
    NlpstreamConfig generous = config(Map.of());
    TaskInstance first = new TaskInstance(stage(new ScriptedAnalyzer(), generous), generous);
    first.processor.init(first.context);
    first.process(0, "{\"id\":\"e0\",\"text\":\"gated\"}");
    first.process(1, "{\"id\":\"e1\",\"text\":\"gated and much longer than the new limit allows\"}");
    first.process(2, "{\"id\":\"e2\",\"text\":\"gated\"}");
    first.close();

    NlpstreamConfig strict = config(Map.of(NlpstreamConfig.MAX_INPUT_BYTES, 40));
    ScriptedAnalyzer answers = new ScriptedAnalyzer();
    answers.open();
    TaskInstance second = new TaskInstance(stage(answers, strict), strict);
    second.processor.init(second.context);
    second.punctuateUntil("all three records (five forwards)", () -> second.context.forwarded().size() == 5);
    assertThat(second.context.forwarded()).extracting(f -> f.childName().orElseThrow() + ":" + f.record().key())
        .containsExactly("enriched-sink:e0", "route:e0", "dead-letter-sink:text.in-0-1", "enriched-sink:e2", "route:e2");
    DeadLetter letter = (DeadLetter) second.context.forwarded(EnrichmentTopology.DEAD_LETTER_SINK).get(0).record().value();
    assertThat(letter.reason()).isEqualTo(DeadLetterReason.TOO_LARGE);
    assertThat(letter.stage()).isEqualTo(Stage.PARSE);
    assertThat(second.bufferedOffsets()).isEmpty();
    second.close();
  }

  @Test
  void atThePerTaskCapProcessWaitsForTheHeadInsteadOfBufferingMore() throws Exception {
    NlpstreamConfig config = config(Map.of(NlpstreamConfig.BERT_MAX_PENDING_PER_TASK, 2));
    ScriptedAnalyzer gated = new ScriptedAnalyzer();
    TaskInstance task = new TaskInstance(stage(gated, config), config);
    task.processor.init(task.context);
    task.process(0, "{\"id\":\"e0\",\"text\":\"gated zero\"}");
    Thread second = new Thread(() -> task.process(1, "{\"id\":\"e1\",\"text\":\"gated one\"}"));
    second.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (second.getState() != Thread.State.WAITING && second.getState() != Thread.State.TIMED_WAITING) {
      assertThat(System.nanoTime()).as("the second process() call should block at the cap").isLessThan(deadline);
      assertThat(second.isAlive()).as("the second process() call returned without waiting").isTrue();
      Thread.onSpinWait();
    }
    assertThat(task.context.forwarded()).isEmpty();
    gated.open();
    second.join(Duration.ofSeconds(20).toMillis());
    assertThat(second.isAlive()).isFalse();
    // Waiting at the cap forwarded the finished head from within process().
    assertThat(task.keysForwardedTo(EnrichmentTopology.ENRICHED_SINK)).startsWith("e0");
    task.punctuateUntil("both", () -> task.context.forwarded(EnrichmentTopology.ENRICHED_SINK).size() == 2);
    assertThat(task.keysForwardedTo(EnrichmentTopology.ENRICHED_SINK)).containsExactly("e0", "e1");
    task.close();
  }
}
