package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.bert.Analysis;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EnrichmentTopologyTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path stateDir;

  private ScriptedAnalyzer analyzer = new ScriptedAnalyzer();
  private EnrichmentHarness harness;

  private EnrichmentHarness start(Map<String, ?> overrides) {
    harness = new EnrichmentHarness(analyzer, stateDir, overrides);
    return harness;
  }

  @AfterEach
  void tearDown() {
    analyzer.open();
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void everyValidInputBecomesExactlyOneEnrichedRecordCarryingTheAnalyzersResults() {
    EnrichmentHarness h = start(Map.of());
    h.pipe("{\"id\":\"a-1\",\"text\":\"Alice flew from Paris to Berlin for Acme. Great trip!\",\"source\":\"news\","
        + "\"lang\":\"en\",\"metadata\":{\"x\":1.10,\"tags\":[\"t\"]},\"timestamp\":\"2024-05-01T14:00:00+02:00\"}");
    h.pipe("{\"text\":\"a plain sentence without names\",\"timestamp\":1714564800000}");
    h.pipe("{\"id\":\"a-3\",\"text\":\"Zürich 😀 Bob\",\"unknown\":\"ignored\"}");

    h.pumpUntil("3 enriched records", () -> h.enriched.size() == 3);
    h.settle();

    assertThat(h.deadLetters).isEmpty();
    assertThat(h.enriched).extracting(TestRecord::key).containsExactly("a-1", "text.in-0-1", "a-3");
    for (TestRecord<String, JsonNode> r : h.enriched) {
      JsonNode v = r.value();
      String text = v.get("text").asText();
      Analysis expected = ScriptedAnalyzer.expected(text);
      assertThat(v.get("id").asText()).isEqualTo(r.key());
      assertThat(v.get("sentiment").get("label").asText()).isEqualTo(expected.sentiment().label());
      assertThat(v.get("sentiment").get("score").asDouble()).isEqualTo(expected.sentiment().score());
      assertThat(v.get("entities")).hasSize(expected.entities().size());
      for (int i = 0; i < expected.entities().size(); i++) {
        JsonNode e = v.get("entities").get(i);
        Analysis.Entity want = expected.entities().get(i);
        assertThat(e.get("text").asText()).isEqualTo(want.text());
        assertThat(e.get("type").asText()).isEqualTo(want.type());
        assertThat(text.substring(e.get("start").asInt(), e.get("end").asInt())).isEqualTo(e.get("text").asText());
      }
      assertThat(v.get("classes").get(0).get("label").asText()).isEqualTo(expected.classes().get(0).label());
      assertThat(v.get("classes")).hasSize(expected.classes().size());
      assertThat(v.get("tokens").asInt()).isEqualTo(expected.tokens());
      assertThat(v.get("truncated").asBoolean()).isEqualTo(expected.truncated());
      Map<String, String> models = new HashMap<>();
      v.get("models").properties().forEach(f -> models.put(f.getKey(), f.getValue().asText()));
      assertThat(models).isEqualTo(ScriptedAnalyzer.MODELS);
      assertThat(v.get("source_offset").get("topic").asText()).isEqualTo("text.in");
    }
    JsonNode first = h.enriched.get(0).value();
    assertThat(first.get("source").asText()).isEqualTo("news");
    assertThat(first.get("lang").asText()).isEqualTo("en");
    assertThat(first.get("metadata").toString()).isEqualTo("{\"x\":1.10,\"tags\":[\"t\"]}");
    assertThat(first.get("timestamp").asText()).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(first.get("entities")).extracting(e -> e.get("type").asText()).containsExactly("PER", "LOC", "LOC", "ORG", "PER");
    JsonNode second = h.enriched.get(1).value();
    assertThat(second.get("timestamp").asText()).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(second.has("source")).isFalse();
    assertThat(second.get("source_offset").get("offset").asLong()).isEqualTo(1);
    assertThat(h.enriched.get(2).value().has("unknown")).isFalse();
    assertThat(h.enriched.get(0).getRecordTime()).isEqualTo(EnrichmentHarness.T0);

    PipelineCounters.Snapshot counts = h.stage.counters().snapshot();
    assertThat(counts.in()).isEqualTo(3);
    assertThat(counts.enriched()).isEqualTo(3);
    assertThat(counts.deadLettersTotal()).isZero();
  }

  static Stream<Arguments> badInputs() {
    byte[] invalidUtf8 = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    byte[] hugeInvalid = new byte[2000];
    java.util.Arrays.fill(hugeInvalid, (byte) 0xFF);
    String deep = "{\"text\":\"x\",\"metadata\":" + "{\"a\":".repeat(40) + "1" + "}".repeat(40) + "}";
    return Stream.of(
        Arguments.of("syntax error", bytes("{\"text\": \"unterminated"), DeadLetterReason.NOT_JSON),
        Arguments.of("empty value", bytes(""), DeadLetterReason.NOT_JSON),
        Arguments.of("trailing data", bytes("{\"text\":\"a\"} {}"), DeadLetterReason.NOT_JSON),
        Arguments.of("duplicate field", bytes("{\"text\":\"a\",\"text\":\"b\"}"), DeadLetterReason.NOT_JSON),
        Arguments.of("tombstone", null, DeadLetterReason.NOT_JSON),
        Arguments.of("array", bytes("[{\"text\":\"a\"}]"), DeadLetterReason.NOT_OBJECT),
        Arguments.of("string", bytes("\"hello\""), DeadLetterReason.NOT_OBJECT),
        Arguments.of("no text", bytes("{\"id\":\"x\"}"), DeadLetterReason.MISSING_TEXT),
        Arguments.of("null text", bytes("{\"text\":null}"), DeadLetterReason.MISSING_TEXT),
        Arguments.of("empty text", bytes("{\"text\":\"\"}"), DeadLetterReason.EMPTY_TEXT),
        Arguments.of("blank text", bytes("{\"text\":\" \\n\\t \"}"), DeadLetterReason.EMPTY_TEXT),
        Arguments.of("numeric text", bytes("{\"text\":42}"), DeadLetterReason.WRONG_TYPE),
        Arguments.of("array metadata", bytes("{\"text\":\"a\",\"metadata\":[1]}"), DeadLetterReason.WRONG_TYPE),
        Arguments.of("boolean timestamp", bytes("{\"text\":\"a\",\"timestamp\":true}"), DeadLetterReason.WRONG_TYPE),
        Arguments.of("unknown task", bytes("{\"text\":\"a\",\"task\":\"poem\"}"), DeadLetterReason.INVALID_VALUE),
        Arguments.of("bad date", bytes("{\"text\":\"a\",\"timestamp\":\"yesterday\"}"), DeadLetterReason.INVALID_VALUE),
        Arguments.of("malformed UTF-8", invalidUtf8, DeadLetterReason.INVALID_UTF8),
        Arguments.of("unpaired surrogate", bytes("{\"text\":\"a\\ud800b\"}"), DeadLetterReason.INVALID_UTF8),
        Arguments.of("over max.input.bytes (and not UTF-8)", hugeInvalid, DeadLetterReason.TOO_LARGE),
        Arguments.of("nested too deep", bytes(deep), DeadLetterReason.TOO_LARGE),
        Arguments.of("huge number", bytes("{\"text\":\"a\",\"metadata\":{\"n\":" + "9".repeat(500) + "}}"),
            DeadLetterReason.TOO_LARGE));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("badInputs")
  void eachBadInputBecomesExactlyOneDeadLetterWithItsReasonAndOriginalBytes(String name, byte[] value,
                                                                           DeadLetterReason reason) {
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.MAX_INPUT_BYTES, 1024));
    byte[] key = bytes("key-" + name);
    h.pipe(key, value);
    h.pipe("{\"text\":\"a good record after the bad one\"}");
    h.pumpUntil("the good record", () -> h.enriched.size() == 1);
    h.settle();

    assertThat(h.deadLetters).hasSize(1);
    TestRecord<String, JsonNode> dl = h.deadLetters.get(0);
    JsonNode v = dl.value();
    assertThat(v.get("reason").asText()).isEqualTo(reason.code());
    assertThat(v.get("stage").asText()).isEqualTo("parse");
    assertThat(v.get("message").asText()).isNotBlank();
    assertThat(v.get("source").get("topic").asText()).isEqualTo("text.in");
    assertThat(v.get("source").get("offset").asLong()).isZero();
    assertThat(Base64.getDecoder().decode(v.get("key_base64").asText())).isEqualTo(key);
    if (value == null) {
      assertThat(v.has("value_base64")).isFalse();
    } else {
      assertThat(Base64.getDecoder().decode(v.get("value_base64").asText())).isEqualTo(value);
    }
    assertThat(dl.key()).isEqualTo("text.in-0-0");
    assertThat(h.enriched.get(0).key()).isEqualTo("text.in-0-1");
    assertThat(h.stage.counters().snapshot().deadLetters()).isEqualTo(Map.of(reason.code(), 1L));
  }

  @Test
  void tooLargeIsDecidedOnTheByteLengthBeforeDecoding() {
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.MAX_INPUT_BYTES, 64));
    String text = "ü".repeat(30);  // 30 chars but 60 bytes of UTF-8: the record is 71 bytes
    h.pipe("{\"text\":\"" + text + "\"}");
    h.settle();
    assertThat(h.deadLetters).hasSize(1);
    assertThat(h.deadLetters.get(0).value().get("reason").asText()).isEqualTo("too_large");
    assertThat(h.deadLetters.get(0).value().get("message").asText()).contains("71 bytes", "max.input.bytes=64");
    assertThat(analyzer.batches).isEmpty();
  }

  @Test
  void recordsWithoutIdGetOneDerivedFromTopicPartitionOffset() {
    EnrichmentHarness h = start(Map.of());
    h.pipe("{\"text\":\"first\"}");
    h.pipe("{\"text\":\"second\",\"id\":null}");
    h.pipe("{\"text\":\"third\",\"id\":\"own-id\"}");
    h.pipe("{\"text\":5}");
    h.pumpUntil("3 enriched", () -> h.enriched.size() == 3);
    h.settle();
    assertThat(h.enriched).extracting(TestRecord::key).containsExactly("text.in-0-0", "text.in-0-1", "own-id");
    assertThat(h.enriched).extracting(r -> r.value().get("id").asText())
        .containsExactly("text.in-0-0", "text.in-0-1", "own-id");
    assertThat(h.deadLetters).extracting(TestRecord::key).containsExactly("text.in-0-3");
    assertThat(h.deadLetters.get(0).value().get("id").asText()).isEqualTo("text.in-0-3");
  }

  @Test
  void aLaterRecordThatFinishesFirstWaitsForTheEarlierOne() {
    // Both texts land in one pool (max wait 2 s); a 12-token budget cuts it into two batches, and the
    // batcher runs the shorter one first: "quick" completes while the gated, earlier record still runs.
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.BATCH_MAX_TOKENS, 12, NlpstreamConfig.BATCH_MAX_WAIT_MS, 2000L));
    h.pipe("{\"id\":\"early\",\"text\":\"gated one two three four five\"}");
    h.pipe("{\"id\":\"late\",\"text\":\"quick\"}");
    h.pumpUntil("the later record's analysis", () -> analyzer.completed.contains("quick")
        && analyzer.started.contains("gated one two three four five"));
    for (int i = 0; i < 20; i++) {
      h.pump();
    }
    assertThat(h.enriched).as("nothing may overtake the unfinished head of the partition").isEmpty();
    assertThat(h.buffered()).extracting(kv -> kv.key.offset()).containsExactly(0L, 1L);

    analyzer.open();
    h.pumpUntil("both records", () -> h.enriched.size() == 2);
    h.settle();
    assertThat(h.enriched).extracting(TestRecord::key).containsExactly("early", "late");
    assertThat(analyzer.batches).containsExactly(List.of("quick"), List.of("gated one two three four five"));
  }

  @Test
  void outputKeepsInputOrderWhileBatchesAreReorderedByLength() {
    // Each batch takes 2 ms, so results of one pool complete over time, shortest first, while the
    // test thread keeps punctuating: forwarding anything but the finished prefix would show here.
    analyzer = new ScriptedAnalyzer(2);
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.BATCH_MAX_TOKENS, 40, NlpstreamConfig.BATCH_MAX_WAIT_MS, 50L,
        NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS, 4000));
    Random random = new Random(7);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String text = "word ".repeat(1 + random.nextInt(30)).trim();
      ids.add("r" + i);
      h.pipe("{\"id\":\"r" + i + "\",\"text\":\"" + text + "\"}");
    }
    h.pumpUntil("200 enriched", () -> h.enriched.size() == 200);
    h.settle();
    assertThat(h.enriched).extracting(TestRecord::key).containsExactlyElementsOf(ids);
    // The batcher did reorder: some batch ran texts out of input order.
    assertThat(analyzer.batches.size()).isGreaterThan(1);
    assertThat(analyzer.batches.stream().anyMatch(b -> b.size() > 1)).isTrue();
  }

  @Test
  void recordsAreRoutedToGptRequestsByTheirTaskAndByRules() {
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.ROUTING_RULES,
        "source=chat & sentiment=negative -> reply; words>8 -> summary; class=Sports&entities>=1->summary"));
    h.pipe("{\"id\":\"t1\",\"text\":\"short and fine\",\"task\":\"summary\",\"source\":\"chat\"}");
    h.pipe("{\"id\":\"r1\",\"text\":\"this is terrible service\",\"source\":\"Chat\",\"metadata\":{\"user\":\"u1\"}}");
    h.pipe("{\"id\":\"r2\",\"text\":\"one two three four five six seven eight nine\"}");
    h.pipe("{\"id\":\"r3\",\"text\":\"what a match by Bob\"}");
    h.pipe("{\"id\":\"n1\",\"text\":\"this is terrible service\",\"source\":\"email\"}");
    h.pipe("{\"id\":\"n2\",\"text\":\"a match\"}");
    h.pumpUntil("6 enriched", () -> h.enriched.size() == 6);
    h.settle();

    assertThat(h.gptRequests).extracting(TestRecord::key).containsExactly("t1", "r1", "r2", "r3");
    Map<String, JsonNode> byId = new HashMap<>();
    h.gptRequests.forEach(r -> byId.put(r.key(), r.value()));
    assertThat(byId.get("t1").get("kind").asText()).isEqualTo("summary");
    assertThat(byId.get("t1").get("routed_by").asText()).isEqualTo("task");
    assertThat(byId.get("r1").get("kind").asText()).isEqualTo("reply");
    assertThat(byId.get("r1").get("routed_by").asText()).isEqualTo("source=chat & sentiment=negative -> reply");
    assertThat(byId.get("r1").get("sentiment").get("label").asText()).isEqualTo("negative");
    assertThat(byId.get("r1").get("metadata").get("user").asText()).isEqualTo("u1");
    assertThat(byId.get("r1").get("text").asText()).isEqualTo("this is terrible service");
    assertThat(byId.get("r2").get("routed_by").asText()).isEqualTo("words>8 -> summary");
    assertThat(byId.get("r3").get("routed_by").asText()).isEqualTo("class=Sports&entities>=1->summary");
    assertThat(h.stage.counters().snapshot().gptRequests()).isEqualTo(4);
  }

  @Test
  void anInferenceFailureDeadLettersThatRecordWhileTheRestOfItsBatchFlows() {
    EnrichmentHarness h = start(Map.of(NlpstreamConfig.BATCH_MAX_WAIT_MS, 1000L));  // one pool: a batch of three
    String bad = "{\"id\":\"bad\",\"text\":\"this one goes boom\"}";
    h.pipe("{\"id\":\"a\",\"text\":\"alpha\"}");
    h.pipe(bad);
    h.pipe("{\"id\":\"b\",\"text\":\"beta\"}");
    h.pumpUntil("2 enriched and 1 dead letter", () -> h.enriched.size() == 2 && h.deadLetters.size() == 1);
    h.settle();

    assertThat(h.enriched).extracting(TestRecord::key).containsExactly("a", "b");
    JsonNode dl = h.deadLetters.get(0).value();
    assertThat(h.deadLetters.get(0).key()).isEqualTo("bad");
    assertThat(dl.get("reason").asText()).isEqualTo("inference_error");
    assertThat(dl.get("stage").asText()).isEqualTo("bert");
    assertThat(dl.get("model").asText()).isEqualTo(ScriptedAnalyzer.MODEL_ID);
    assertThat(dl.get("message").asText()).contains("scripted failure");
    assertThat(dl.get("exception").asText()).isEqualTo("io.nlpstream.models.runtime.InferenceException");
    assertThat(new String(Base64.getDecoder().decode(dl.get("value_base64").asText()), StandardCharsets.UTF_8))
        .isEqualTo(bad);
    assertThat(dl.get("source").get("offset").asLong()).isEqualTo(1);
    // The batch of three failed as a whole, then each text was retried alone.
    assertThat(analyzer.batches.get(0)).hasSize(3);
  }

  @Test
  void anUnexpectedExceptionBecomesAProcessingErrorDeadLetterThroughTheHandler() {
    EnrichmentHarness h = start(Map.of());
    String bug = "{\"id\":\"bug\",\"text\":\"this hits a tokenizer-bug\"}";
    String fail = "{\"id\":\"fail\",\"text\":\"this hits a tokenizer-fail\"}";
    h.pipe(bug);
    h.pipe(fail);
    h.pipe("{\"id\":\"ok\",\"text\":\"fine\"}");
    h.pumpUntil("1 enriched", () -> h.enriched.size() == 1);
    h.settle();

    assertThat(h.enriched).extracting(TestRecord::key).containsExactly("ok");
    assertThat(h.deadLetters).extracting(TestRecord::key).containsExactly("bug", "fail");
    JsonNode first = h.deadLetters.get(0).value();
    assertThat(first.get("reason").asText()).isEqualTo("processing_error");
    assertThat(first.get("stage").asText()).isEqualTo("bert");
    assertThat(first.get("exception").asText()).isEqualTo("java.lang.IllegalStateException");
    assertThat(first.get("message").asText()).contains("scripted tokenizer bug");
    assertThat(new String(Base64.getDecoder().decode(first.get("value_base64").asText()), StandardCharsets.UTF_8))
        .isEqualTo(bug);
    JsonNode second = h.deadLetters.get(1).value();
    assertThat(second.get("reason").asText()).isEqualTo("inference_error");
    assertThat(second.get("model").asText()).isEqualTo(ScriptedAnalyzer.MODEL_ID);
    assertThat(h.stage.counters().snapshot().deadLetters())
        .isEqualTo(Map.of("processing_error", 1L, "inference_error", 1L));
    assertThat(h.buffered()).isEmpty();
  }

  @Test
  void badRoutingRulesFailAtStartUpNamingTheKeyAndTheBadPart() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.ROUTING_RULES, "words>5->summary;mood=sad->reply"));
    try (BertStage stage = BertStage.start(analyzer, config)) {
      assertThatThrownBy(() -> EnrichmentTopology.create(config, stage))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(NlpstreamConfig.ROUTING_RULES)
          .hasMessageContaining("rule 2 'mood=sad->reply'")
          .hasMessageContaining("unknown field 'mood'");
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
