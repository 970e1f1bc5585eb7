package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore path of the GPT stage at processor level, over real persistent (RocksDB) stores in a
 * real state directory: an instance closes with requests answered and requests still in flight; a
 * new instance over the same state takes up the buffered ones, and a redelivery of everything
 * (at-least-once: offsets not committed) generates nothing twice.
 */
class GenerationProcessorRecoveryTest {

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

  private final class TaskInstance {
    final MockProcessorContext<String, Object> context;
    final KeyValueStore<RequestKey, SourceRecord> buffer;
    final WindowStore<RequestKey, Answer> answered;
    final GenerationProcessor processor;

    TaskInstance(ScriptedGenerator generator) {
      NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.BOOTSTRAP_SERVERS, "unused:9092"));
      GptStage stage = GptStage.start(generator, config);
      toClose.add(generator::release);
      Properties props = StreamsSettings.generation(config, stage);
      context = new MockProcessorContext<>(props, TASK, stateDir.toFile());
      context.setCurrentSystemTimeMs(1_714_564_800_000L);
      buffer = GenerationTopology.bufferStore().withCachingDisabled().withLoggingDisabled().build();
      buffer.init(context.getStateStoreContext(), buffer);
      answered = GenerationTopology.answeredStore(Duration.ofDays(7)).withLoggingDisabled().build();
      answered.init(context.getStateStoreContext(), answered);
      processor = new GenerationProcessor(stage, GptRequestParser.from(config), GenerationTopology.BUFFER_STORE,
          GenerationTopology.ANSWERED_STORE, Duration.ofMillis(5), 64, Duration.ofSeconds(1), Duration.ofDays(7),
          GenerationTopology.SUMMARIES_SINK, GenerationTopology.REPLIES_SINK, GenerationTopology.DEAD_LETTER_SINK);
    }

    void process(long offset, String inputId) {
      context.setRecordMetadata("text.gpt.requests", 0, offset);
      byte[] value = GenerationHarness.request(inputId, "summary", "text of " + inputId).getBytes(StandardCharsets.UTF_8);
      processor.process(new Record<>(inputId.getBytes(StandardCharsets.UTF_8), value, 1_000_000 + offset));
    }

    void punctuateUntil(String what, BooleanSupplier condition) {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!condition.getAsBoolean()) {
        if (System.nanoTime() > deadline) {
          fail("timed out waiting for " + what);
        }
        context.scheduledPunctuators().forEach(p -> p.getPunctuator().punctuate(System.currentTimeMillis()));
      }
    }

    List<String> summaryKeys() {
      List<String> keys = new ArrayList<>();
      context.forwarded(GenerationTopology.SUMMARIES_SINK).forEach(f -> keys.add(f.record().key()));
      return keys;
    }

    void close() {
      processor.close();
      buffer.commit(Map.of());
      answered.commit(Map.of());
      buffer.close();
      answered.close();
    }
  }

  @Test
  void bufferedRequestsAreTakenUpAndAnsweredOnesAreNeverGeneratedAgain() {
    ScriptedGenerator first = new ScriptedGenerator();
    TaskInstance one = new TaskInstance(first);
    one.processor.init(one.context);
    for (int i = 0; i < 3; i++) {
      one.process(i, "r-" + i);
    }
    one.punctuateUntil("three summaries", () -> one.summaryKeys().size() == 3);
    first.hold();
    one.process(3, "r-3");
    one.process(4, "r-4");
    for (int i = 0; i < 5; i++) {
      one.punctuateUntil("nothing (held)", () -> true);
    }
    assertThat(one.summaryKeys()).containsExactly("r-0", "r-1", "r-2");
    one.close();

    ScriptedGenerator second = new ScriptedGenerator();
    TaskInstance two = new TaskInstance(second);
    second.hold();
    two.processor.init(two.context);
    assertThat(second.calledIds()).as("buffered requests are resubmitted on init, in offset order")
        .containsExactly("summary/r-3", "summary/r-4");
    // Redelivery of all five (their offsets were not committed): none is generated again.
    for (int i = 0; i < 5; i++) {
      two.process(i, "r-" + i);
    }
    second.release();
    two.punctuateUntil("two summaries", () -> two.summaryKeys().size() == 2);
    for (int i = 0; i < 5; i++) {
      two.process(i, "r-" + i);   // and once more, now that r-3 and r-4 are answered too
    }
    two.punctuateUntil("settled", () -> true);
    assertThat(two.summaryKeys()).containsExactlyInAnyOrder("r-3", "r-4");
    assertThat(second.calledIds()).containsExactly("summary/r-3", "summary/r-4");
    two.close();
  }
}
