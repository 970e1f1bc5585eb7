package io.nlpstream.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker is a real Kafka: topics, transactions, restart on the same data, no orphans. */
class EmbeddedKafkaBrokerIT {

  @TempDir
  Path tmp;

  @Test
  void servesTransactionsAndKeepsDataAcrossStopAndKill() throws Exception {
    Path dir = tmp.resolve("broker");
    // After a kill, the restarted node waits for its previous incarnation's session to expire
    // (broker.session.timeout.ms, 9 s by default): shorten it for this test.
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(dir)
        .serverProperty("broker.session.timeout.ms", "3000")
        .serverProperty("broker.heartbeat.interval.ms", "500")
        .start()) {
      assertThat(broker.isRunning()).isTrue();
      try (Admin admin = admin(broker)) {
        admin.createTopics(List.of(new NewTopic("t", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
      // Transactions need the single-replica transaction state log: exactly_once_v2 depends on it.
      produceTransactionally(broker, "t", List.of("a", "b", "c"));
      assertThat(consumeAll(broker, "t", 3)).containsExactlyInAnyOrder("a", "b", "c");

      String address = broker.bootstrapServers();
      broker.stop();
      assertThat(broker.isRunning()).isFalse();
      assertThat(portOpen(address)).isFalse();

      broker.restart();
      assertThat(broker.bootstrapServers()).isEqualTo(address);
      produceTransactionally(broker, "t", List.of("d"));
      assertThat(consumeAll(broker, "t", 4)).containsExactlyInAnyOrder("a", "b", "c", "d");

      broker.kill();
      broker.restart();
      assertThat(consumeAll(broker, "t", 4)).containsExactlyInAnyOrder("a", "b", "c", "d");

      assertThatThrownBy(broker::restart).isInstanceOf(IllegalStateException.class).hasMessageContaining("running");
    }
    // Logs go to the broker's own file, and a directory that was given is kept.
    assertThat(dir.resolve("broker.log")).exists();
    assertThat(Files.readString(dir.resolve("broker.log"))).contains("Kafka Server started");
    assertThat(dir.resolve("kraft/meta.properties")).exists();
  }

  @Test
  void temporaryDirectoryIsDeletedOnClose() {
    Path dir;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      dir = broker.directory();
      assertThat(dir.resolve("server.properties")).exists();
    }
    assertThat(dir).doesNotExist();
  }

  @Test
  void badServerConfigurationFailsStartWithTheBrokerLog() {
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder()
        .directory(tmp.resolve("bad"))
        .serverProperty("num.network.threads", "not-a-number")
        .startTimeout(Duration.ofSeconds(60))
        .start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exited with code")
        .hasMessageContaining("num.network.threads");
  }

  @Test
  void brokerExitsWhenItsParentIsKilled() throws Exception {
    Path dir = tmp.resolve("orphan");
    Process owner = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), BrokerOwnerMain.class.getName(), dir.toString())
        .redirectErrorStream(true)
        .start();
    try {
      String address;
      try (BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
        address = readBootstrapLine(out);
        assertThat(portOpen(address)).isTrue();
        owner.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (portOpen(address) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(portOpen(address)).as("broker port after its parent was killed").isFalse();
      // The port closes before the JVM is gone; it may still write into its directory (which JUnit then
      // fails to delete). Wait for the process itself: its command line names its server.properties.
      String marker = dir.resolve("server.properties").toString();
      while (brokerProcessAlive(marker) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(brokerProcessAlive(marker)).as("broker process after its parent was killed").isFalse();
      assertThat(Files.readString(dir.resolve("broker.log"))).contains("parent process gone");
    } finally {
      owner.destroyForcibly();
    }
  }

  private static boolean brokerProcessAlive(String commandLineMarker) {
    return ProcessHandle.allProcesses().anyMatch(p -> p.isAlive()
        && p.info().commandLine().map(c -> c.contains(commandLineMarker)).orElse(false));
  }

  private static String readBootstrapLine(BufferedReader out) throws Exception {
    List<String> seen = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("BOOTSTRAP ")) {
        return line.substring("BOOTSTRAP ".length());
      }
      seen.add(line);
    }
    throw new AssertionError("owner process ended without starting a broker:\n" + String.join("\n", seen));
  }

  static Admin admin(EmbeddedKafkaBroker broker) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  private static void produceTransactionally(EmbeddedKafkaBroker broker, String topic, List<String> values) {
    Map<String, Object> config = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-" + System.nanoTime(),
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
    try (KafkaProducer<String, String> producer =
             new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (String v : values) {
        producer.send(new ProducerRecord<>(topic, v));
      }
      producer.commitTransaction();
    }
  }

  private static List<String> consumeAll(EmbeddedKafkaBroker broker, String topic, int expected) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + System.nanoTime(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
             new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(Set.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(r.value());
        }
      }
    }
    return values;
  }

  private static boolean portOpen(String address) {
    String[] hp = address.split(":");
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 500);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
