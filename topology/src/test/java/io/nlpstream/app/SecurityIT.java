package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.ops.Observability;
import io.nlpstream.ops.OpsHttpServer;
import io.nlpstream.testing.CapturedLogs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.provider.FileConfigProvider;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The product path against a broker that requires authentication (SASL/PLAIN on its own listener):
 * the password reaches the Kafka clients only through Kafka's {@link FileConfigProvider} (a
 * {@code ${file:...}} reference in {@code kafka.sasl.jaas.config}); a wrong password is refused;
 * records flow through the real models; the operations endpoint reports ready, serves the
 * pipeline's and Kafka's metrics (consumer lag included); and the password appears in no log line,
 * no {@code /metrics}, {@code /health} or {@code /ready} body.
 */
class SecurityIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path work;

  private static String jaas(String user, String password) {
    return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
        + "\" password=\"" + password + "\";";
  }

  private Map<String, Object> settings(EmbeddedKafkaBroker broker, Path secrets) {
    Map<String, Object> s = new HashMap<>();
    s.put(NlpstreamConfig.BOOTSTRAP_SERVERS, broker.saslBootstrapServers());
    s.put(NlpstreamConfig.APPLICATION_ID, "sec-enrich");
    s.put(NlpstreamConfig.STATE_DIR, work.resolve("state").toString());
    s.put(NlpstreamConfig.TOPIC_PARTITIONS, 2);
    s.put(NlpstreamConfig.METRICS_PORT, 0);
    s.put("kafka.security.protocol", "SASL_PLAINTEXT");
    s.put("kafka.sasl.mechanism", "PLAIN");
    s.put("kafka.config.providers", "file");
    s.put("kafka.config.providers.file.class", FileConfigProvider.class.getName());
    s.put("kafka.sasl.jaas.config", "${file:" + secrets + ":sasl.jaas.config}");
    return s;
  }

  private Path secretsFile(String name, String jaas) throws Exception {
    Path file = work.resolve(name);
    Files.writeString(file, "sasl.jaas.config=" + jaas.replace("\\", "\\\\") + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void thePipelineRunsOverSaslWithTheSecretOnlyInAFileAndNowhereInTheOutput() throws Exception {
    String password = "pw-" + UUID.randomUUID();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(work.resolve("kafka"))
        .saslPlainUser("nlpstream", password).start()) {
      // A wrong password is refused by the broker: the listener really authenticates.
      NlpstreamConfig wrong = NlpstreamConfig.of(settings(broker, secretsFile("wrong.properties",
          jaas("nlpstream", "not-" + password))));
      assertThatThrownBy(() -> EnrichmentApp.createTopics(wrong)).isInstanceOf(ConfigException.class)
          .hasMessageContaining("Authentication failed");

      NlpstreamConfig config = NlpstreamConfig.of(settings(broker, secretsFile("kafka.properties",
          jaas("nlpstream", password))));
      try (CapturedLogs logs = CapturedLogs.start()) {
        try (Observability observability = Observability.start(config);
             EnrichmentApp app = EnrichmentApp.start(config, observability)) {
          int port = observability.address().orElseThrow().getPort();
          awaitHttp(port, OpsHttpServer.READY_PATH, r -> r.statusCode() == 200, "ready");

          List<String> values = List.of(
              "{\"id\":\"sec-1\",\"text\":\"Angela Merkel met Emmanuel Macron in Berlin.\"}",
              "{\"id\":\"sec-2\",\"text\":\"The support team never answered. Terrible service.\"}",
              "this is not JSON");
          produce(config, values);
          List<JsonNode> enriched = new ArrayList<>();
          List<JsonNode> dead = new ArrayList<>();
          consumeUntil(config, enriched, dead, 2, 1);
          assertThat(enriched).extracting(n -> n.get("id").asText()).containsExactlyInAnyOrder("sec-1", "sec-2");
          assertThat(dead).extracting(n -> n.get("reason").asText()).containsExactly("not_json");

          HttpResponse<String> metrics = awaitHttp(port, OpsHttpServer.METRICS_PATH,
              r -> r.body().contains("kafka_consumer_fetch_manager_records_lag_max")
                  && r.body().contains("nlpstream_records_in_total{application=\"nlpstream\",stage=\"bert\"} 3.0"),
              "pipeline and consumer lag metrics");
          assertThat(metrics.body())
              .contains("nlpstream_records_out_total{application=\"nlpstream\",output=\"enriched\",stage=\"bert\"} 2.0")
              .contains("nlpstream_records_dead_lettered_total{application=\"nlpstream\",reason=\"not_json\","
                  + "stage=\"bert\",step=\"parse\"} 1.0")
              .containsPattern("nlpstream_inference_latency_seconds_count\\{application=\"nlpstream\",stage=\"bert\"} [1-9]")
              .contains("nlpstream_model_loaded{")
              .contains("kafka_stream_thread_");
          HttpResponse<String> health = get(port, OpsHttpServer.HEALTH_PATH);
          HttpResponse<String> ready = get(port, OpsHttpServer.READY_PATH);
          assertThat(health.statusCode()).isEqualTo(200);
          JsonNode readyBody = JSON.readTree(ready.body());
          assertThat(readyBody.at("/components/bert.streams/state").asText()).isEqualTo("RUNNING");
          assertThat(readyBody.at("/components/bert.models/ready").asBoolean()).isTrue();
          for (HttpResponse<String> r : List.of(metrics, health, ready)) {
            assertThat(r.body()).doesNotContain(password);
          }

          app.close();
          // The stage is gone: not ready any more, still live.
          assertThat(get(port, OpsHttpServer.READY_PATH).statusCode()).isEqualTo(503);
          assertThat(get(port, OpsHttpServer.HEALTH_PATH).statusCode()).isEqualTo(200);
        }
        assertThat(logs.lines()).isNotEmpty();
        for (CapturedLogs.Line line : logs.lines()) {
          assertThat(line.everything()).as("%s %s", line.level(), line.logger()).doesNotContain(password);
        }
        assertThat(logs.atLeast(Level.INFO)).anySatisfy(l ->
            assertThat(l.message()).startsWith("configuration (secrets hidden)")
                .contains("kafka.sasl.jaas.config=" + NlpstreamConfig.MASK));
      }
    }
  }

  private static void produce(NlpstreamConfig config, List<String> values) throws Exception {
    Map<String, Object> p = KafkaClientSettings.producer(config);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (String v : values) {
        producer.send(new ProducerRecord<>(config.getString(NlpstreamConfig.TOPIC_INPUT), v.getBytes(StandardCharsets.UTF_8)))
            .get();
      }
    }
  }

  private static void consumeUntil(NlpstreamConfig config, List<JsonNode> enriched, List<JsonNode> dead,
                                   int enrichedWanted, int deadWanted) throws Exception {
    Map<String, Object> c = KafkaClientSettings.consumer(config);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "sec-reader");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    String enrichedTopic = config.getString(NlpstreamConfig.TOPIC_ENRICHED);
    String dlq = config.getString(NlpstreamConfig.TOPIC_DLQ);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(enrichedTopic, dlq));
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while ((enriched.size() < enrichedWanted || dead.size() < deadWanted) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          (r.topic().equals(enrichedTopic) ? enriched : dead).add(JSON.readTree(r.value()));
        }
      }
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> awaitHttp(int port, String path, Predicate<HttpResponse<String>> done, String what)
      throws Exception {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    HttpResponse<String> last = get(port, path);
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not " + what + " within " + TIMEOUT + ": " + last.statusCode() + " "
            + last.body().substring(0, Math.min(2000, last.body().length())));
      }
      Thread.sleep(250);
      last = get(port, path);
    }
    return last;
  }
}
