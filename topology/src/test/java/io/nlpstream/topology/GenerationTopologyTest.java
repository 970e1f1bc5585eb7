package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.GenerationKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPT-stage topology under TopologyTestDriver with a scripted generator. */
class GenerationTopologyTest {

  @TempDir
  Path stateDir;

  private final ScriptedGenerator generator = new ScriptedGenerator();
  private GenerationHarness harness;

  private GenerationHarness start(Map<String, ?> overrides) {
    harness = new GenerationHarness(generator, stateDir, overrides);
    return harness;
  }

  @AfterEach
  void tearDown() {
    generator.release();
    if (harness != null) {
      harness.close();
    }
  }

  private static String req(String id, String kind, String text) {
    return GenerationHarness.request(id, kind, text);
  }

  @Test
  void eachRequestGetsExactlyOneOutputOnTheTopicOfItsKind() {
    GenerationHarness h = start(Map.of());
    h.pipe(req("e-1", "summary", "A long report about the quarterly results of Acme."));
    h.pipe(req("e-2", "reply", "Where is my parcel? It is late again."));
    h.pumpUntil("two outputs", () -> h.outputs() == 2);
    h.settle();

    assertThat(h.summaries).hasSize(1);
    assertThat(h.replies).hasSize(1);
    assertThat(h.deadLetters).isEmpty();
    TestRecord<String, JsonNode> s = h.summaries.get(0);
    assertThat(s.key()).isEqualTo("e-1");
    JsonNode v = s.value();
    assertThat(v.get("input_id").asText()).isEqualTo("e-1");
    assertThat(v.get("kind").asText()).isEqualTo("summary");
    assertThat(v.get("text").asText())
        .isEqualTo(ScriptedGenerator.expectedText(GenerationKind.SUMMARY, "A long report about the quarterly results of Acme."));
    assertThat(v.get("model").asText()).isEqualTo(ScriptedGenerator.MODEL_ID);
    assertThat(v.get("generated_tokens").asInt()).isEqualTo(3);
    assertThat(v.get("finish_reason").asText()).isEqualTo("stop");
    assertThat(v.get("max_new_tokens").asInt()).isEqualTo(64);
    assertThat(v.get("latency_ms").asLong()).isEqualTo(42);
    assertThat(v.get("routed_by").asText()).isEqualTo("task");
    assertThat(v.get("source_offset").get("offset").asLong()).isZero();
    assertThat(s.getRecordTime()).isEqualTo(GenerationHarness.T0);
    assertThat(h.replies.get(0).value().get("max_new_tokens").asInt()).isEqualTo(40);

    assertThat(generator.calledIds()).containsExactly("summary/e-1", "reply/e-2");
    assertThat(generator.calls.get(0).params()).isEqualTo(DecodingParams.greedy(64));
    assertThat(generator.calls.get(1).params()).isEqualTo(DecodingParams.greedy(40));
    assertThat(h.stage.counters().snapshot().generated()).isEqualTo(2);
  }

  @Test
  void aRequestAnsweredOrInFlightIsNotGeneratedAgainNorAnsweredTwice() {
    GenerationHarness h = start(Map.of());
    h.pipe(req("e-1", "summary", "first delivery"));
    h.pumpUntil("the summary", () -> h.summaries.size() == 1);
    // At-least-once upstream: the same request again, later.
    h.pipe(null, req("e-1", "summary", "first delivery"), GenerationHarness.T0.plusSeconds(3600));
    // Same input, other kind: a different request.
    h.pipe(req("e-1", "reply", "first delivery"));
    h.pumpUntil("the reply", () -> h.replies.size() == 1);

    generator.hold();
    h.pipe(req("e-2", "summary", "slow one"));
    h.pipe(req("e-2", "summary", "slow one"));   // duplicate while the first is generating
    h.pump();
    generator.release();
    h.pumpUntil("e-2's summary", () -> h.summaries.size() == 2);
    h.settle();

    assertThat(h.summaries).extracting(TestRecord::key).containsExactly("e-1", "e-2");
    assertThat(h.replies).extracting(TestRecord::key).containsExactly("e-1");
    assertThat(generator.calledIds()).containsExactly("summary/e-1", "reply/e-1", "summary/e-2");
    assertThat(h.stage.counters().snapshot().duplicates()).isEqualTo(2);
  }

  @Test
  void theReplayHorizonIsTheAnsweredRetention() {
    GenerationHarness h = start(Map.of(NlpstreamConfig.GPT_ANSWERED_RETENTION_MS, 600_000));
    h.pipe(null, req("e-1", "summary", "text"), GenerationHarness.T0);
    h.pumpUntil("the summary", () -> h.summaries.size() == 1);
    h.pipe(null, req("e-1", "summary", "text"), GenerationHarness.T0.plus(Duration.ofMinutes(9)));
    h.pump();
    assertThat(h.summaries).hasSize(1);
    // Beyond the retention the answer is no longer known: the copy is generated again.
    h.pipe(null, req("e-1", "summary", "text"), GenerationHarness.T0.plus(Duration.ofMinutes(11)));
    h.pumpUntil("a second summary", () -> h.summaries.size() == 2);
    assertThat(generator.calledIds()).containsExactly("summary/e-1", "summary/e-1");
  }

  @Test
  void badRequestsAreDeadLetteredWithTheirReasonAndBytes() {
    GenerationHarness h = start(Map.of(NlpstreamConfig.MAX_INPUT_BYTES, 400));
    List<String[]> cases = List.of(
        new String[] {"not_json", "this is not JSON"},
        new String[] {"not_object", "[1,2]"},
        new String[] {"missing_text", "{\"input_id\":\"b-1\",\"kind\":\"summary\"}"},
        new String[] {"empty_text", "{\"input_id\":\"b-2\",\"kind\":\"summary\",\"text\":\"  \"}"},
        new String[] {"wrong_type", "{\"input_id\":\"b-3\",\"kind\":\"reply\",\"text\":42}"},
        new String[] {"invalid_value", "{\"input_id\":\"b-4\",\"kind\":\"translate\",\"text\":\"hi\"}"},
        new String[] {"invalid_value", "{\"kind\":\"summary\",\"text\":\"no id\"}"},
        new String[] {"invalid_utf8", "{\"input_id\":\"b-5\",\"kind\":\"summary\",\"text\":\"x \\ud800 y\"}"},
        new String[] {"too_large", "{\"input_id\":\"b-6\",\"kind\":\"summary\",\"text\":\"" + "x".repeat(500) + "\"}"});
    for (String[] c : cases) {
      h.pipe(c[1]);
    }
    h.pipe(null, null, GenerationHarness.T0);   // tombstone
    h.pipe(req("ok-1", "summary", "a valid one among them"));
    h.pumpUntil("all outputs", () -> h.outputs() == cases.size() + 2);
    h.settle();

    assertThat(h.summaries).extracting(TestRecord::key).containsExactly("ok-1");
    assertThat(h.deadLetters).hasSize(cases.size() + 1);
    for (int i = 0; i < cases.size(); i++) {
      JsonNode d = h.deadLetters.get(i).value();
      assertThat(d.get("reason").asText()).as(cases.get(i)[1]).isEqualTo(cases.get(i)[0]);
      assertThat(d.get("stage").asText()).isEqualTo("gpt");
      assertThat(d.get("source").get("topic").asText()).isEqualTo("text.gpt.requests");
      assertThat(d.get("source").get("offset").asLong()).isEqualTo(i);
      assertThat(new String(Base64.getDecoder().decode(d.get("value_base64").asText()), StandardCharsets.UTF_8))
          .isEqualTo(cases.get(i)[1]);
    }
    assertThat(h.deadLetters.get(cases.size()).value().get("reason").asText()).isEqualTo("not_json");
    assertThat(generator.calledIds()).containsExactly("summary/ok-1");
    assertThat(h.stage.counters().snapshot().deadLetters())
        .containsEntry("invalid_value", 2L).containsEntry("not_json", 2L).containsEntry("too_large", 1L);
  }

  @Test
  void aFailedGenerationIsDeadLetteredAndTheOthersFlow() {
    GenerationHarness h = start(Map.of());
    h.pipe(req("f-1", "summary", "this one will FAIL in the model"));
    h.pipe(req("f-2", "reply", "this one is fine"));
    h.pumpUntil("two outputs", () -> h.outputs() == 2);
    h.settle();
    assertThat(h.replies).extracting(TestRecord::key).containsExactly("f-2");
    JsonNode d = h.deadLetters.get(0).value();
    assertThat(h.deadLetters.get(0).key()).isEqualTo("f-1");
    assertThat(d.get("reason").asText()).isEqualTo("inference_error");
    assertThat(d.get("stage").asText()).isEqualTo("gpt");
    assertThat(d.get("model").asText()).isEqualTo(ScriptedGenerator.MODEL_ID);
    assertThat(d.get("id").asText()).isEqualTo("f-1");
    assertThat(d.get("message").asText()).contains("scripted failure");
    assertThat(h.stage.counters().snapshot().deadLetters()).containsEntry("inference_error", 1L);
    // A failure is not an answer: a copy (a replay once the cause is fixed) is tried again.
    h.pipe(req("f-1", "summary", "this one will FAIL in the model"));
    h.pumpUntil("a second dead letter", () -> h.deadLetters.size() == 2);
    assertThat(generator.calledIds()).containsExactly("summary/f-1", "reply/f-2", "summary/f-1");
  }

  @Test
  void aFullGeneratorLeavesRequestsBufferedAndTheyAreOfferedAgainInOrder() {
    GenerationHarness h = start(Map.of());
    generator.hold().capacity(2);
    for (int i = 0; i < 5; i++) {
      h.pipe(req("q-" + i, "summary", "request number " + i));
    }
    h.pump();
    assertThat(generator.calledIds()).containsExactly("summary/q-0", "summary/q-1");
    assertThat(h.buffered()).hasSize(5);
    assertThat(generator.rejected).isNotEmpty().allMatch(id -> id.equals("q-2"));   // the head of the line only
    assertThat(h.outputs()).isZero();

    generator.capacity(Integer.MAX_VALUE);
    generator.release();
    h.pumpUntil("five summaries", () -> h.summaries.size() == 5);
    h.settle();
    assertThat(generator.calledIds()).containsExactly("summary/q-0", "summary/q-1", "summary/q-2", "summary/q-3",
        "summary/q-4");
    assertThat(h.stage.counters().snapshot().refusedOffers()).isEqualTo(generator.rejected.size());
  }

  @Test
  void outputsLeaveInCompletionOrderSoAShortGenerationOvertakesALongOne() {
    GenerationHarness h = start(Map.of());
    generator.hold();
    h.pipe(req("slow", "summary", "a long article that takes a while"));
    h.pipe(req("quick", "summary", "short"));
    h.pump();
    generator.release("quick");
    h.pumpUntil("quick's summary", () -> h.summaries.size() == 1);
    assertThat(h.summaries.get(0).key()).isEqualTo("quick");
    assertThat(h.buffered()).extracting(kv -> kv.key.inputId()).containsExactly("slow");
    generator.release();
    h.pumpUntil("slow's summary", () -> h.summaries.size() == 2);
    h.settle();
    assertThat(h.summaries).extracting(TestRecord::key).containsExactly("quick", "slow");
  }

  @Test
  void maxNewTokensMustLeaveRoomForAPrompt() {
    assertThatThrownBy(() -> start(Map.of(NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY, 512)))
        .isInstanceOf(ConfigException.class).hasMessageContaining(NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY)
        .hasMessageContaining("context");
  }
}
