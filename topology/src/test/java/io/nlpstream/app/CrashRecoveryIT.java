package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records whose input offsets are committed while they still wait in the BERT stage's batch buffer
 * survive a {@code kill -9} of the process: after a restart (on a fresh state directory, so the
 * buffer can only come back from its changelog topic) every valid input is enriched exactly once.
 *
 * <p>The service runs as a separate process, {@code nlpstream run --config FILE}, from the built
 * classes and {@code target/lib}; the test owns the broker.
 */
class CrashRecoveryIT {

  private static final int VALID = 12;
  private static final String APP_ID = "crash-it";
  private static final String IN = "crash.in";
  private static final String ENRICHED = "crash.enriched";

  private static EmbeddedKafkaBroker broker;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void committedButUnprocessedRecordsSurviveKillMinusNine() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      // One partition: the committed offset of the group is then simply the count of records taken.
      admin.createTopics(List.of(new NewTopic(IN, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);

      // 1. A service that buffers: nothing is inferred for 10 minutes unless 1000 records wait.
      Path buffering = config("buffering", Map.of(
          "batch.max.wait.ms", "600000", "batch.max.size", "1000",
          "batch.max.tokens", "200000", "batch.max.queued.tokens", "200000"));
      Process first = startService(buffering, tmp.resolve("first.log"));
      try {
        awaitLog(first, tmp.resolve("first.log"), "enrichment running", Duration.ofMinutes(2));
        produce(VALID);

        // The input offsets are committed while the records sit in the buffer: without the
        // changelogged buffer store they would now be lost.
        awaitCommittedOffset(admin, VALID, Duration.ofMinutes(1));
        assertThat(readEnriched(Duration.ofSeconds(2))).as("nothing inferred yet").isEmpty();
      } finally {
        first.destroyForcibly();
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(first.exitValue()).as("killed by SIGKILL").isEqualTo(137);

      // 2. Restart with normal batching on a fresh state directory: the buffer comes back from Kafka.
      Path normal = config("normal", Map.of());
      Process second = startService(normal, tmp.resolve("second.log"));
      try {
        List<String> ids = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (ids.size() < VALID && System.nanoTime() < deadline && second.isAlive()) {
          ids.clear();
          readEnriched(Duration.ofSeconds(2)).forEach(n -> ids.add(n.path("id").asText()));
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < VALID; i++) {
          expected.add("crash-" + i);
        }
        assertThat(ids).as("enriched ids after the restart; service log:\n%s", tail(tmp.resolve("second.log")))
            .containsExactlyInAnyOrderElementsOf(expected);

        // 3. SIGTERM: clean shutdown, exit 0.
        second.destroy();
        assertThat(second.waitFor(90, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        assertThat(second.exitValue()).as("exit status after SIGTERM; log:\n%s", tail(tmp.resolve("second.log")))
            .isZero();
        assertThat(Files.readString(tmp.resolve("second.log"))).contains("clean shutdown complete");
      } finally {
        second.destroyForcibly();
      }
    }
  }

  private Path config(String name, Map<String, String> overrides) throws IOException {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("application.id", APP_ID);
    p.put("state.dir", tmp.resolve("state-" + name).toString());
    p.put("topic.input", IN);
    p.put("topic.enriched", ENRICHED);
    p.put("topic.dlq", "crash.dlq");
    p.put("topic.gpt.requests", "crash.gpt");
    p.put("topic.partitions", "1");
    // A killed member holds its partitions until its session expires: keep that short.
    p.put("kafka.session.timeout.ms", "6000");
    p.put("kafka.heartbeat.interval.ms", "1000");
    p.putAll(overrides);
    StringBuilder sb = new StringBuilder();
    p.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Path file = tmp.resolve(name + ".properties");
    Files.writeString(file, sb.toString());
    return file;
  }

  private static Process startService(Path config, Path log) throws IOException {
    String classPath = Path.of("target", "classes").toAbsolutePath() + File.pathSeparator
        + Path.of("target", "lib").toAbsolutePath() + File.separator + "*";
    return new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath, "io.nlpstream.cli.NlpstreamCommand", "run", "--stage", "bert", "--config", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static void awaitLog(Process p, Path log, String line, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(line)) {
        return;
      }
      if (!p.isAlive()) {
        throw new AssertionError("service exited with " + p.exitValue() + " before '" + line + "':\n" + tail(log));
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no '" + line + "' within " + timeout + ":\n" + tail(log));
  }

  private static void produce(int valid) throws Exception {
    Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < valid; i++) {
        producer.send(new ProducerRecord<>(IN, null, AbstractEnrichmentPipelineIT.json(
            "id", "crash-" + i, "source", "chat", "text", "Message number " + i + " from Oslo: the order arrived."))).get();
      }
    }
  }

  private static void awaitCommittedOffset(Admin admin, long expected, Duration timeout) throws Exception {
    TopicPartition tp = new TopicPartition(IN, 0);
    long deadline = System.nanoTime() + timeout.toNanos();
    long committed = -1;
    while (System.nanoTime() < deadline) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(APP_ID).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      OffsetAndMetadata o = offsets.get(tp);
      committed = o == null ? -1 : o.offset();
      if (committed >= expected) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("committed offset of " + APP_ID + " on " + tp + " is " + committed + ", expected " + expected);
  }

  /** Everything committed to the enriched topic so far. */
  private static List<JsonNode> readEnriched(Duration pollFor) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<JsonNode> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(ENRICHED, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + pollFor.toNanos();
      while (System.nanoTime() < deadline && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          out.add(AbstractEnrichmentPipelineIT.parse(r.value()));
        }
      }
    }
    return out;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
