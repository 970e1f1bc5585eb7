package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.ops.OpsHttpServer;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a GPT-stage process ({@code nlpstream run --stage gpt}, a real decoder: the tiny
 * GPT-2 fixture) under {@code exactly_once_v2} while it has answered some requests and holds the
 * others in its buffer store (most of them not even admitted to the generator: its queue is kept
 * tiny). After a restart on a fresh state directory (the stores come back from their changelogs):
 * every request has exactly one output record (read_committed), the restarted process generated
 * exactly the requests whose answer had not been committed, and a second delivery of every request
 * generates nothing.
 */
class GenerationCrashRecoveryIT {

  private static final int REQUESTS = 200;
  private static final String APP_ID = "gpt-crash-it";
  private static final String REQUESTS_TOPIC = "gcrash.gpt";
  private static final String SUMMARIES = "gcrash.summaries";
  /** The counters the GPT stage logs when it closes: its own, then its generator's. */
  private static final Pattern COUNTERS = Pattern.compile(
      "GPT stage counters: requests=(\\d+) generated=(\\d+) duplicates=(\\d+) .*GeneratorStats\\[submitted=(\\d+),");
  private static final Pattern ENDPOINT = Pattern.compile("operations endpoint on http://([^:]+):(\\d+)");

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
  void eachRequestIsAnsweredOnceAndNeverGeneratedTwiceAcrossKillMinusNine() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(REQUESTS_TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    Path catalog = GptBundles.writeTiny(tmp.resolve("catalog"));

    // 1. One request at a time, long generations, a queue of 2: most requests wait in the buffer store.
    Process first = startService(config("first", catalog, Map.of("gpt.max.batch.size", "1", "gpt.max.queued", "2")),
        tmp.resolve("first.log"));
    int answeredBeforeKill;
    try {
      awaitLog(first, tmp.resolve("first.log"), "generation running", Duration.ofMinutes(2));
      produce(0, REQUESTS);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (summaries(Duration.ofMillis(300)).size() < 3 && System.nanoTime() < deadline && first.isAlive()) {
        Thread.sleep(20);
      }
    } finally {
      first.destroyForcibly();
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(first.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    Map<String, Integer> before = countById(summaries(Duration.ofSeconds(15)));
    answeredBeforeKill = before.size();
    assertThat(before.values()).as("no duplicate before the crash").allMatch(n -> n == 1);
    System.out.printf("GenerationCrashRecoveryIT: %d of %d requests answered and committed before kill -9%n",
        answeredBeforeKill, REQUESTS);
    assertThat(answeredBeforeKill).as("some requests answered and committed before the kill; log:\n%s",
        tail(tmp.resolve("first.log"))).isBetween(1, REQUESTS - 1);

    // 2. Restart with the defaults on a fresh state directory.
    Path secondLog = tmp.resolve("second.log");
    Process second = startService(config("second", catalog, Map.of()), secondLog);
    try {
      Map<String, Integer> after = Map.of();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (after.size() < REQUESTS && System.nanoTime() < deadline && second.isAlive()) {
        after = countById(summaries(Duration.ofSeconds(2)));
      }
      assertThat(after).as("one summary per request; log:\n%s", tail(secondLog)).hasSize(REQUESTS);
      assertThat(after.values()).as("exactly one each").allMatch(n -> n == 1);

      // 3. Every request delivered again (an at-least-once upstream): nothing is generated.
      produce(0, REQUESTS);
      Thread.sleep(3000);
      Map<String, Integer> end = countById(summaries(Duration.ofSeconds(5)));
      assertThat(end.values()).as("still exactly one each after the redelivery").allMatch(n -> n == 1);
      assertThat(end).hasSize(REQUESTS);

      // run --stage gpt serves its own operations endpoint: ready on the GPT stage alone, its meters.
      Matcher endpoint = ENDPOINT.matcher(Files.readString(secondLog));
      assertThat(endpoint.find()).as("endpoint in the log:\n%s", tail(secondLog)).isTrue();
      URI base = URI.create("http://" + endpoint.group(1) + ":" + endpoint.group(2));
      HttpResponse<String> ready = get(base.resolve(OpsHttpServer.READY_PATH));
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      JsonNode components = AbstractEnrichmentPipelineIT.parse(ready.body().getBytes(StandardCharsets.UTF_8))
          .path("components");
      assertThat(components.fieldNames()).toIterable()
          .containsExactlyInAnyOrder(GenerationApp.MODELS_HEALTH, GenerationApp.STREAMS_HEALTH);
      assertThat(components.at("/gpt.streams/state").asText()).isEqualTo("RUNNING");
      assertThat(components.at("/gpt.streams/application_id").asText()).isEqualTo(APP_ID);
      // Kafka client meters are bound when the client registers them (after its first fetch) and the
      // binder picks new ones up on its own schedule: scrape until the lag meter is there
      Pattern lag = Pattern.compile("kafka_consumer_fetch_manager_records_lag_max\\{[^}]*stage=\"gpt\"");
      String metrics = get(base.resolve(OpsHttpServer.METRICS_PATH)).body();
      long scrapeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!lag.matcher(metrics).find() && System.nanoTime() < scrapeDeadline) {
        Thread.sleep(500);
        metrics = get(base.resolve(OpsHttpServer.METRICS_PATH)).body();
      }
      assertThat(metrics)
          .containsPattern("nlpstream_records_out_total\\{application=\"nlpstream\",output=\"summary\",stage=\"gpt\"} "
              + (REQUESTS - answeredBeforeKill) + "\\.0")
          .containsPattern("nlpstream_records_duplicate_total\\{application=\"nlpstream\",stage=\"gpt\"} "
              + REQUESTS + "\\.0")
          .containsPattern("nlpstream_generated_tokens_total\\{application=\"nlpstream\",stage=\"gpt\"} [1-9]")
          .containsPattern("nlpstream_inference_latency_seconds_count\\{application=\"nlpstream\",stage=\"gpt\"} [1-9]")
          .containsPattern("kafka_consumer_fetch_manager_records_lag_max\\{[^}]*stage=\"gpt\"")
          .doesNotContain("stage=\"bert\"");

      second.destroy();   // SIGTERM: clean shutdown, which logs the stage's counters
      assertThat(second.waitFor(90, TimeUnit.SECONDS)).isTrue();
      assertThat(second.exitValue()).as("exit after SIGTERM; log:\n%s", tail(secondLog)).isZero();
    } finally {
      second.destroyForcibly();
    }
    Matcher m = COUNTERS.matcher(Files.readString(secondLog));
    assertThat(m.find()).as("counters in the log:\n%s", tail(secondLog)).isTrue();
    int generated = Integer.parseInt(m.group(2));
    int duplicates = Integer.parseInt(m.group(3));
    int submitted = Integer.parseInt(m.group(4));
    assertThat(submitted).as("generations after the restart = requests not answered before the kill")
        .isEqualTo(REQUESTS - answeredBeforeKill);
    assertThat(generated).isEqualTo(REQUESTS - answeredBeforeKill);
    assertThat(duplicates).as("the redelivered requests were recognised as answered").isEqualTo(REQUESTS);
  }

  private Path config(String name, Path catalog, Map<String, String> overrides) throws IOException {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("gpt.application.id", APP_ID);
    p.put("state.dir", tmp.resolve("state-" + name).toString());
    p.put("model.catalog.dir", catalog.toString());
    p.put("gpt.model", GptBundles.TINY);
    p.put("gpt.max.new.tokens.summary", "96");
    p.put("gpt.max.new.tokens.reply", "96");
    p.put("topic.gpt.requests", REQUESTS_TOPIC);
    p.put("topic.summaries", SUMMARIES);
    p.put("topic.replies", "gcrash.replies");
    p.put("topic.dlq", "gcrash.dlq");
    p.put("topic.partitions", "1");
    p.put("inference.intra.op.threads", "1");
    p.put("kafka.session.timeout.ms", "6000");
    p.put("metrics.port", "0");   // a free port (logged): never collides with another process
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
        "-cp", classPath, "io.nlpstream.cli.NlpstreamCommand", "run", "--stage", "gpt", "--config", config.toString())
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

  private static HttpResponse<String> get(URI uri) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void produce(int from, int to) throws Exception {
    Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5);
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = from; i < to; i++) {
        String id = "req-" + i;
        producer.send(new ProducerRecord<>(REQUESTS_TOPIC, AbstractEnrichmentPipelineIT.bytes(id),
            AbstractEnrichmentPipelineIT.json("input_id", id, "kind", "summary", "routed_by", "task",
                "text", "Report " + i + ": the team shipped release " + i + " and fixed " + (i % 7) + " bugs.")));
      }
      producer.flush();
    }
  }

  /** The summaries committed so far. */
  private static List<JsonNode> summaries(Duration pollFor) {
    return GenerationPipelineIT.readAll(broker.bootstrapServers(), List.of(SUMMARIES), pollFor).get(SUMMARIES);
  }

  private static Map<String, Integer> countById(List<JsonNode> records) {
    return records.stream().collect(Collectors.toMap(n -> n.path("input_id").asText(), n -> 1, Integer::sum,
        TreeMap::new));
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
