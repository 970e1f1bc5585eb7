package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The enrichment pipeline end to end on a real broker with the real models, whatever the broker
 * ({@link EnrichmentPipelineIT}: embedded; {@link EnrichmentPipelineContainerIT}: Testcontainers):
 * every valid input gives exactly one enriched record, every bad input exactly one dead letter with
 * the right reason and the original bytes, entity offsets index the text, and every output record
 * validates against its schema in {@code schemas/}.
 */
abstract class AbstractEnrichmentPipelineIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration ACCOUNTING_TIMEOUT = Duration.ofMinutes(3);

  @TempDir
  Path stateDir;

  /** {@code host:port} of the broker under test. */
  protected abstract String bootstrapServers();

  /** One input record and what must come of it: {@code null} reason = enriched. */
  record Case(String name, byte[] value, String reason) {
    static Case valid(String name, Object... fields) {
      return new Case(name, json(fields), null);
    }

    static Case bad(String name, String reason, byte[] value) {
      return new Case(name, value, reason);
    }
  }

  /** Where a case landed on the input topic. */
  record Sent(Case input, int partition, long offset) {}

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    cases.add(Case.valid("chat", "id", "it-chat-1", "source", "chat", "lang", "en",
        "text", "The delivery was late again and nobody answers my emails. I am very disappointed."));
    cases.add(Case.valid("news", "id", "it-news-1", "source", "news",
        "text", "Angela Merkel met Emmanuel Macron in Berlin on Tuesday to discuss energy policy in the European Union."));
    cases.add(Case.valid("emoji before entities", "id", "it-emoji-1",
        "text", "🚀🔥 Zoë flew from São Paulo to Zürich with Lufthansa 🎉 and met Łukasz Nowak."));
    cases.add(Case.valid("no id", "text", "An event without an id gets one derived from its partition and offset."));
    cases.add(Case.valid("task summary", "id", "it-task-1", "task", "summary",
        "text", "Please summarise the meeting notes from Monday for the team in London."));
    cases.add(Case.valid("metadata and timestamp", "id", "it-meta-1", "source", "review", "timestamp",
        "2026-11-28T10:15:30Z", "metadata", Map.of("ticket", "T-1", "tags", List.of("a", "b")),
        "text", "The hotel near the Colosseum in Rome was spotless and the staff were friendly."));
    cases.add(Case.valid("long text", "id", "it-long-1", "source", "report", "text", longText()));

    cases.add(Case.bad("not json", "not_json", bytes("this is not JSON")));
    cases.add(Case.bad("unterminated", "not_json", bytes("{\"id\": \"x\", \"text\": \"open")));
    cases.add(Case.bad("tombstone", "not_json", null));
    cases.add(Case.bad("array", "not_object", bytes("[1, 2, 3]")));
    cases.add(Case.bad("no text", "missing_text", json("id", "it-bad-missing", "source", "chat")));
    cases.add(Case.bad("blank text", "empty_text", json("id", "it-bad-empty", "text", " \t ")));
    cases.add(Case.bad("number text", "wrong_type", json("id", "it-bad-type", "text", 42)));
    cases.add(Case.bad("unknown task", "invalid_value", json("id", "it-bad-task", "text", "hi", "task", "translate")));
    cases.add(Case.bad("latin-1 bytes", "invalid_utf8",
        concat(bytes("{\"id\": \"it-bad-utf8\", \"text\": \"caf"), new byte[] {(byte) 0xe9, (byte) 0xff}, bytes("\"}"))));
    cases.add(Case.bad("lone surrogate", "invalid_utf8", bytes("{\"id\": \"it-bad-surrogate\", \"text\": \"x \\ud800 y\"}")));
    cases.add(Case.bad("over max.input.bytes", "too_large", oversized()));
    cases.add(Case.bad("too deep", "too_large",
        bytes("{\"id\": \"it-bad-deep\", \"text\": \"t\", \"metadata\": " + "[".repeat(60) + "]".repeat(60) + "}")));
    return cases;
  }

  @Test
  void everyInputIsEnrichedOrDeadLetteredExactlyOnce() throws Exception {
    String prefix = "it" + Long.toString(System.nanoTime(), 36) + ".";
    Map<String, Object> settings = new HashMap<>();
    settings.put(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrapServers());
    settings.put(NlpstreamConfig.APPLICATION_ID, prefix + "enrich");
    settings.put(NlpstreamConfig.STATE_DIR, stateDir.toString());
    settings.put(NlpstreamConfig.TOPIC_INPUT, prefix + "in");
    settings.put(NlpstreamConfig.TOPIC_ENRICHED, prefix + "enriched");
    settings.put(NlpstreamConfig.TOPIC_DLQ, prefix + "dlq");
    settings.put(NlpstreamConfig.TOPIC_GPT_REQUESTS, prefix + "gpt");
    settings.put(NlpstreamConfig.TOPIC_PARTITIONS, 2);
    // Configured like the product: NLPSTREAM_* variables apply (e.g. another model catalogue), the
    // settings above win.
    NlpstreamConfig config = NlpstreamConfig.load(null, System.getenv(), settings);
    List<Case> cases = cases();

    Map<String, List<JsonNode>> outputs;
    List<Sent> sent;
    try (EnrichmentApp app = EnrichmentApp.start(config)) {
      app.awaitRunning(Duration.ofMinutes(2));
      sent = send(prefix + "in", cases);
      outputs = readUntilAccounted(List.of(prefix + "enriched", prefix + "dlq", prefix + "gpt"), sent.size());
    }

    Map<String, Sent> byCoordinates = new HashMap<>();
    sent.forEach(s -> byCoordinates.put(s.partition() + "@" + s.offset(), s));
    Map<Case, List<JsonNode>> enriched = new LinkedHashMap<>();
    Map<Case, List<JsonNode>> dead = new LinkedHashMap<>();
    for (JsonNode e : outputs.get(prefix + "enriched")) {
      JsonNode so = e.path("source_offset");
      assertThat(so.path("topic").asText()).isEqualTo(prefix + "in");
      Sent s = byCoordinates.get(so.path("partition").asInt() + "@" + so.path("offset").asLong());
      assertThat(s).as("enriched record matches a sent record: %s", e).isNotNull();
      enriched.computeIfAbsent(s.input(), k -> new ArrayList<>()).add(e);
    }
    for (JsonNode d : outputs.get(prefix + "dlq")) {
      JsonNode src = d.path("source");
      Sent s = byCoordinates.get(src.path("partition").asInt() + "@" + src.path("offset").asLong());
      assertThat(s).as("dead letter matches a sent record: %s", d).isNotNull();
      dead.computeIfAbsent(s.input(), k -> new ArrayList<>()).add(d);
    }

    for (Sent s : sent) {
      Case c = s.input();
      if (c.reason() == null) {
        assertThat(enriched.get(c)).as("enriched records of '%s'", c.name()).hasSize(1);
        assertThat(dead.get(c)).as("dead letters of valid '%s'", c.name()).isNull();
        checkEnriched(c, s, enriched.get(c).get(0), prefix + "in");
      } else {
        assertThat(dead.get(c)).as("dead letters of '%s'", c.name()).hasSize(1);
        assertThat(enriched.get(c)).as("enriched records of bad '%s'", c.name()).isNull();
        JsonNode d = dead.get(c).get(0);
        assertThat(d.path("reason").asText()).as("reason of '%s' (%s)", c.name(), d.path("message").asText())
            .isEqualTo(c.reason());
        assertThat(d.path("source").path("topic").asText()).isEqualTo(prefix + "in");
        if (c.value() == null) {
          assertThat(d.path("value_base64").isNull() || d.path("value_base64").isMissingNode()).isTrue();
        } else {
          assertThat(Base64.getDecoder().decode(d.path("value_base64").asText()))
              .as("original bytes of '%s'", c.name()).isEqualTo(c.value());
        }
      }
    }

    // Routing: the explicit task always wins; the negative chat message matches the default rule.
    Map<String, JsonNode> gpt = new HashMap<>();
    outputs.get(prefix + "gpt").forEach(g -> gpt.put(g.path("input_id").asText(), g));
    assertThat(gpt.get("it-task-1")).as("GPT request of the event with task=summary").isNotNull();
    assertThat(gpt.get("it-task-1").path("kind").asText()).isEqualTo("summary");

    // Every record read or written validates against its schema.
    Schema enrichedSchema = schema("enriched-event.schema.json");
    Schema deadSchema = schema("dead-letter.schema.json");
    Schema gptSchema = schema("gpt-request.schema.json");
    Schema inputSchema = schema("text-event.schema.json");
    outputs.get(prefix + "enriched").forEach(n -> assertValid(enrichedSchema, n));
    outputs.get(prefix + "dlq").forEach(n -> assertValid(deadSchema, n));
    outputs.get(prefix + "gpt").forEach(n -> assertValid(gptSchema, n));
    cases.stream().filter(c -> c.reason() == null).forEach(c -> assertValid(inputSchema, parse(c.value())));
  }

  private static void checkEnriched(Case c, Sent s, JsonNode e, String inputTopic) {
    JsonNode input = parse(c.value());
    String text = input.path("text").asText();
    assertThat(e.path("text").asText()).as("text of '%s' unchanged", c.name()).isEqualTo(text);
    String expectedId = input.hasNonNull("id") ? input.get("id").asText()
        : inputTopic + "-" + s.partition() + "-" + s.offset();
    assertThat(e.path("id").asText()).as("id of '%s'", c.name()).isEqualTo(expectedId);
    assertThat(e.path("sentiment").path("label").asText()).isIn("negative", "neutral", "positive");
    assertThat(e.path("classes").size()).isPositive();
    for (JsonNode entity : e.path("entities")) {
      int start = entity.path("start").asInt();
      int end = entity.path("end").asInt();
      assertThat(start).isNotNegative().isLessThan(end);
      assertThat(end).isLessThanOrEqualTo(text.length());
      assertThat(text.substring(start, end)).as("entity %s of '%s'", entity, c.name())
          .isEqualTo(entity.path("text").asText());
    }
    if (c.name().equals("long text")) {
      assertThat(e.path("truncated").asBoolean()).as("a text over the encoder window is flagged").isTrue();
      assertThat(e.path("tokens").asInt()).isGreaterThan(256);
    }
  }

  private List<Sent> send(String topic, List<Case> cases) throws Exception {
    Map<String, Object> config = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024);
    List<Future<RecordMetadata>> futures = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (Case c : cases) {
        futures.add(producer.send(new ProducerRecord<>(topic, null, c.value())));
      }
      producer.flush();
    }
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      RecordMetadata m = futures.get(i).get(30, TimeUnit.SECONDS);
      sent.add(new Sent(cases.get(i), m.partition(), m.offset()));
    }
    return sent;
  }

  /**
   * Reads the output topics (read_committed) until {@code expected} records are in the first two
   * (enriched + dead letters), then on to the end, so that duplicates would show.
   */
  private Map<String, List<JsonNode>> readUntilAccounted(List<String> topics, int expected) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, List<JsonNode>> out = new LinkedHashMap<>();
    topics.forEach(t -> out.put(t, new ArrayList<>()));
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        for (PartitionInfo p : consumer.partitionsFor(t, Duration.ofSeconds(30))) {
          partitions.add(new TopicPartition(t, p.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + ACCOUNTING_TIMEOUT.toNanos();
      while (out.get(topics.get(0)).size() + out.get(topics.get(1)).size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.topic()).add(parse(r.value()));
        }
      }
      // Then up to the last stable offsets: anything beyond `expected` would be a duplicate.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.topic()).add(parse(r.value()));
        }
      }
    }
    assertThat(out.get(topics.get(0)).size() + out.get(topics.get(1)).size())
        .as("records accounted for in %s within %s", topics.subList(0, 2), ACCOUNTING_TIMEOUT)
        .isEqualTo(expected);
    return out;
  }

  static Schema schema(String file) {
    Path path = Path.of("..", "schemas", file);
    try {
      return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(Files.readString(path, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("cannot read " + path.toAbsolutePath(), e);
    }
  }

  static void assertValid(Schema schema, JsonNode node) {
    List<Error> errors = schema.validate(node);
    assertThat(errors).as("schema errors of %s", node).isEmpty();
  }

  static JsonNode parse(byte[] value) {
    try {
      return JSON.readTree(value);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + new String(value, StandardCharsets.UTF_8), e);
    }
  }

  static byte[] json(Object... fields) {
    ObjectNode n = JSON.createObjectNode();
    for (int i = 0; i < fields.length; i += 2) {
      n.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
    }
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** A valid event, except that it is 300 KiB: over the default max.input.bytes (256 KiB). */
  private static byte[] oversized() {
    return json("id", "it-bad-large", "text", "lorem ipsum ".repeat(300 * 1024 / 12));
  }

  /** About 600 words: several 256-token encoder windows, with named entities only near the end. */
  static String longText() {
    StringBuilder sb = new StringBuilder();
    String[] topics = {"capacity planning", "incident response", "storage growth", "network upgrades",
        "on-call rotations", "cost allocation", "batch migration", "observability", "security patching",
        "disaster recovery"};
    for (int i = 0; i < topics.length; i++) {
      sb.append("Section ").append(i + 1).append(" discussed ").append(topics[i])
          .append(" in detail: the team reviewed last quarter's numbers, compared them with the targets agreed in the"
              + " spring, listed the open risks and the mitigations already in place, and agreed on owners and"
              + " deadlines for every follow-up item, including a short written report for all engineers. ");
    }
    sb.append("At the end, Satya Nadella thanked the engineers of Microsoft in Redmond, and Lisa Su of AMD confirmed"
        + " that the new servers will be delivered to the data centre in Dublin in March.");
    return sb.toString();
  }
}
