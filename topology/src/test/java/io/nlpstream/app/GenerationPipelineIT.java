package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.nlpstream.models.gpt.GeneratorStats;
import io.nlpstream.ops.HealthChecks;
import io.nlpstream.ops.Observability;
import io.nlpstream.topology.GenerationCounters;
import io.nlpstream.topology.PipelineCounters;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both stages in one process on the embedded broker with real models (the BERT bundle, and the
 * default GPT model when present, else the tiny GPT-2 fixture): text.in -> enriched -> GPT requests
 * -> summaries and replies, one output per routed input, schema-valid; a bad request and a
 * duplicate request written straight to the requests topic.
 */
class GenerationPipelineIT {

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
  void routedInputsGetExactlyOneSummaryOrReply() throws Exception {
    String p = "gp" + Long.toString(System.nanoTime(), 36) + ".";
    Map<String, Object> settings = new HashMap<>(GptBundles.settings(tmp.resolve("catalog"), false));
    settings.put(NlpstreamConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
    settings.put(NlpstreamConfig.APPLICATION_ID, p + "enrich");
    settings.put(NlpstreamConfig.GPT_APPLICATION_ID, p + "generate");
    settings.put(NlpstreamConfig.STATE_DIR, tmp.resolve("state").toString());
    settings.put(NlpstreamConfig.MODEL_CACHE_DIR, tmp.resolve("models").toString());
    for (String t : List.of("in", "enriched", "dlq", "gpt", "summaries", "replies")) {
      settings.put(switch (t) {
        case "in" -> NlpstreamConfig.TOPIC_INPUT;
        case "enriched" -> NlpstreamConfig.TOPIC_ENRICHED;
        case "dlq" -> NlpstreamConfig.TOPIC_DLQ;
        case "gpt" -> NlpstreamConfig.TOPIC_GPT_REQUESTS;
        case "summaries" -> NlpstreamConfig.TOPIC_SUMMARIES;
        default -> NlpstreamConfig.TOPIC_REPLIES;
      }, p + t);
    }
    settings.put(NlpstreamConfig.ROUTING_RULES, "source=chat->reply;words>150->summary");
    NlpstreamConfig config = NlpstreamConfig.load(null, System.getenv(), settings);

    try (Observability ops = Observability.unserved();
         Pipeline pipeline = Pipeline.start(config, Pipeline.Stages.ALL, ops)) {
      pipeline.awaitRunning(Duration.ofMinutes(3));
      produce(p + "in", List.of(
          AbstractEnrichmentPipelineIT.json("id", "gp-task-sum", "task", "summary",
              "text", "The council met on Monday and agreed to build a new bridge over the river by next spring."),
          AbstractEnrichmentPipelineIT.json("id", "gp-task-rep", "task", "reply",
              "text", "Hi, can you tell me when the shop opens tomorrow?"),
          AbstractEnrichmentPipelineIT.json("id", "gp-chat", "source", "chat",
              "text", "My order arrived broken and I want a refund."),
          AbstractEnrichmentPipelineIT.json("id", "gp-long", "source", "report",
              "text", AbstractEnrichmentPipelineIT.longText()),
          AbstractEnrichmentPipelineIT.json("id", "gp-news", "source", "news",
              "text", "Short news item that no rule routes.")));
      produce(p + "gpt", List.of(AbstractEnrichmentPipelineIT.json("input_id", "gp-bad", "kind", "poem",
          "text", "not a kind we make", "routed_by", "external")));

      Map<String, List<JsonNode>> out = read(List.of(p + "summaries", p + "replies", p + "dlq"), 5, Duration.ofMinutes(4));
      Schema generation = AbstractEnrichmentPipelineIT.schema("generation.schema.json");
      Schema deadLetter = AbstractEnrichmentPipelineIT.schema("dead-letter.schema.json");
      out.get(p + "summaries").forEach(n -> AbstractEnrichmentPipelineIT.assertValid(generation, n));
      out.get(p + "replies").forEach(n -> AbstractEnrichmentPipelineIT.assertValid(generation, n));
      out.get(p + "dlq").forEach(n -> AbstractEnrichmentPipelineIT.assertValid(deadLetter, n));
      assertThat(ids(out.get(p + "summaries"))).containsExactlyInAnyOrder("gp-task-sum", "gp-long");
      assertThat(ids(out.get(p + "replies"))).containsExactlyInAnyOrder("gp-task-rep", "gp-chat");
      assertThat(out.get(p + "dlq")).hasSize(1);
      JsonNode bad = out.get(p + "dlq").get(0);
      assertThat(bad.path("stage").asText()).isEqualTo("gpt");
      assertThat(bad.path("reason").asText()).isEqualTo("invalid_value");
      String model = pipeline.generation().stage().modelId();
      for (JsonNode g : out.get(p + "summaries")) {
        assertThat(g.path("model").asText()).isEqualTo(model);
        assertThat(g.path("generated_tokens").asInt()).isBetween(1, config.getInt(NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY));
        assertThat(g.path("source_offset").path("topic").asText()).isEqualTo(p + "gpt");
      }

      // An at-least-once upstream delivers a request again: no second generation, no second output.
      produce(p + "gpt", List.of(AbstractEnrichmentPipelineIT.json("input_id", "gp-chat", "kind", "reply",
          "text", "My order arrived broken and I want a refund.", "routed_by", "source=chat")));
      GenerationCounters counters = pipeline.generation().stage().counters();
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (counters.snapshot().duplicates() < 1 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(counters.snapshot().duplicates()).isEqualTo(1);
      Thread.sleep(1000);   // a few commit intervals: a second output would be visible by now
      Map<String, List<JsonNode>> again = read(List.of(p + "summaries", p + "replies"), 4, Duration.ofSeconds(30));
      assertThat(ids(again.get(p + "replies"))).containsExactlyInAnyOrder("gp-task-rep", "gp-chat");
      // The model ran once per distinct request: the duplicate never reached the generator.
      assertThat(pipeline.generation().stage().generator().stats().submitted()).isEqualTo(4);
      assertThat(counters.snapshot().generated()).isEqualTo(4);

      // The GPT stage is in the process's registry and health checks as the BERT stage is.
      List<JsonNode> generations = new ArrayList<>(out.get(p + "summaries"));
      generations.addAll(out.get(p + "replies"));
      assertGptMeters(ops, pipeline, generations);
      HealthChecks.Report ready = ops.health().readiness();
      assertThat(ready.components()).containsOnlyKeys(EnrichmentApp.MODELS_HEALTH, EnrichmentApp.STREAMS_HEALTH,
          GenerationApp.MODELS_HEALTH, GenerationApp.STREAMS_HEALTH);
      assertThat(ready.healthy()).as("ready: %s", ready).isTrue();
      assertThat(ready.components().get(GenerationApp.STREAMS_HEALTH).details())
          .containsEntry("state", "RUNNING").containsEntry("application_id", p + "generate");
      assertThat(ready.components().get(GenerationApp.MODELS_HEALTH).details()).containsEntry("generator", "running");
    }
  }

  /** Every GPT-stage meter agrees with what was written to the topics and with the generator's own counts. */
  private static void assertGptMeters(Observability ops, Pipeline pipeline, List<JsonNode> generations)
      throws InterruptedException {
    MeterRegistry r = ops.registry();
    String gpt = PipelineCounters.GPT;
    assertThat(r.get(PipelineCounters.RECORDS_IN).tag("stage", gpt).counter().count())
        .as("4 routed requests, the bad one, the duplicate").isEqualTo(6);
    assertThat(r.get(PipelineCounters.RECORDS_OUT).tags("stage", gpt, "output", "summary").counter().count()).isEqualTo(2);
    assertThat(r.get(PipelineCounters.RECORDS_OUT).tags("stage", gpt, "output", "reply").counter().count()).isEqualTo(2);
    assertThat(r.get(PipelineCounters.DEAD_LETTERS).tags("stage", gpt, "reason", "invalid_value", "step", "gpt")
        .counter().count()).isEqualTo(1);
    assertThat(r.get(PipelineCounters.DUPLICATES).tag("stage", gpt).counter().count()).isEqualTo(1);
    assertThat(r.get(PipelineCounters.GENERATED_TOKENS).tag("stage", gpt).counter().count())
        .isEqualTo(generations.stream().mapToInt(g -> g.path("generated_tokens").asInt()).sum());
    assertThat(r.get(PipelineCounters.PROMPT_TOKENS).tag("stage", gpt).counter().count())
        .isEqualTo(generations.stream().mapToInt(g -> g.path("prompt_tokens").asInt()).sum());
    GeneratorStats stats = pipeline.generation().stage().generator().stats();
    DistributionSummary batches = r.get(PipelineCounters.BATCH_SIZE).tag("stage", gpt).summary();
    assertThat(batches.count()).as("one per decoder call").isEqualTo(stats.prefills() + stats.decodeSteps());
    assertThat((long) batches.totalAmount()).isEqualTo(stats.prefillRows() + stats.decodedRows());
    assertThat(r.get(PipelineCounters.INFERENCE_LATENCY).tag("stage", gpt).timer().totalTime(TimeUnit.NANOSECONDS))
        .isCloseTo((double) stats.prefillNanos() + stats.decodeNanos(), Percentage.withPercentage(0.01));
    assertThat(r.get(PipelineCounters.STAGE_LATENCY).tag("stage", gpt).timer().count()).isEqualTo(4);
    assertThat(r.get(PipelineCounters.BUFFERED).tag("stage", gpt).gauge().value()).isZero();
    assertThat(r.get(PipelineCounters.QUEUED).tag("stage", gpt).gauge().value()).isZero();
    assertThat(r.get(PipelineCounters.RUNNING).tag("stage", gpt).gauge().value()).isZero();
    assertThat(r.get(PipelineCounters.MODEL_INFO).tags("stage", gpt, "role", "generator",
        "model", pipeline.generation().stage().modelId()).gauge().value()).isEqualTo(1);
    // Kafka Streams' own metrics of both clients, side by side in one registry, told apart by stage.
    // Client metrics that appear with a partition assignment are bound on KafkaStreamsMetrics' next
    // refresh (every 10 s): a fast run gets here before that.
    String scrape = ops.registry().scrape();
    java.util.regex.Pattern lagOfBoth = java.util.regex.Pattern.compile("(?s)(?=.*kafka_consumer_fetch_manager_records_lag_max"
        + "\\{[^}]*stage=\"" + PipelineCounters.BERT + "\")(?=.*kafka_consumer_fetch_manager_records_lag_max"
        + "\\{[^}]*stage=\"" + gpt + "\")");
    long bound = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!lagOfBoth.matcher(scrape).lookingAt() && System.nanoTime() < bound) {
      Thread.sleep(500);
      scrape = ops.registry().scrape();
    }
    for (String stage : List.of(PipelineCounters.BERT, gpt)) {
      assertThat(scrape).containsPattern("kafka_consumer_fetch_manager_records_lag_max\\{[^}]*stage=\"" + stage + "\"")
          .containsPattern("kafka_stream_thread_[a-z_]+\\{[^}]*stage=\"" + stage + "\"");
    }
  }

  private static List<String> ids(List<JsonNode> nodes) {
    return nodes.stream().map(n -> n.path("input_id").asText()).toList();
  }

  private static void produce(String topic, List<byte[]> values) throws Exception {
    Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (byte[] v : values) {
        JsonNode n = AbstractEnrichmentPipelineIT.parse(v);
        byte[] key = n.has("input_id") ? AbstractEnrichmentPipelineIT.bytes(n.get("input_id").asText()) : null;
        producer.send(new ProducerRecord<>(topic, key, v)).get();
      }
    }
  }

  /**
   * Everything committed to {@code topics} so far (read_committed, from the start, up to the end
   * offsets taken at the start, polling at most {@code pollFor}).
   */
  static Map<String, List<JsonNode>> readAll(String bootstrap, List<String> topics, Duration pollFor) {
    Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, List<JsonNode>> out = new TreeMap<>();
    topics.forEach(t -> out.put(t, new ArrayList<>()));
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(t, Duration.ofSeconds(30));
        if (infos != null) {
          infos.forEach(i -> partitions.add(new TopicPartition(t, i.partition())));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + pollFor.toNanos();
      while (System.nanoTime() < deadline && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          out.get(r.topic()).add(AbstractEnrichmentPipelineIT.parse(r.value()));
        }
      }
    }
    return out;
  }

  /** Reads the topics (read_committed, from the start) until {@code expected} records in all, or the timeout. */
  static Map<String, List<JsonNode>> read(List<String> topics, int expected, Duration timeout) {
    Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, List<JsonNode>> out = new TreeMap<>();
    topics.forEach(t -> out.put(t, new ArrayList<>()));
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(i -> partitions.add(new TopicPartition(t, i.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      int n = 0;
      while (n < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.topic()).add(AbstractEnrichmentPipelineIT.parse(r.value()));
          n++;
        }
      }
      // Anything beyond the expected count that is already committed.
      for (int i = 0; i < 5; i++) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.topic()).add(AbstractEnrichmentPipelineIT.parse(r.value()));
        }
      }
    }
    return out;
  }
}
