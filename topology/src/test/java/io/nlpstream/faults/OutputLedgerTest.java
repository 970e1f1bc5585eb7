package io.nlpstream.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed.Outcome;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The audit's bookkeeping finds every kind of miscount: lost, duplicated, misplaced, unknown. */
class OutputLedgerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<Output, String> TOPICS =
      Map.of(Output.ENRICHED, "t.enriched", Output.DEAD_LETTER, "t.dlq", Output.ROUTED, "t.gpt");
  private static final Set<Output> AUDITED = TOPICS.keySet();

  private static ObjectNode keyed(String field, String key) {
    return JSON.createObjectNode().put(field, key);
  }

  @Test
  void exactOutputsTallyClean() {
    OutputLedger ledger = new OutputLedger();
    ledger.expect("a", Outcome.ENRICHED, false);
    ledger.expect("b", Outcome.ENRICHED, true);
    ledger.expect("in-0-7", Outcome.DEAD_LETTER, false);
    assertThat(ledger.accounted(AUDITED)).isFalse();
    ledger.record(Output.ENRICHED, keyed("id", "a"));
    ledger.record(Output.ENRICHED, keyed("id", "b"));
    ledger.record(Output.DEAD_LETTER, keyed("id", "in-0-7"));
    assertThat(ledger.accounted(AUDITED)).as("b's GPT request is missing").isFalse();
    ledger.record(Output.ROUTED, keyed("input_id", "b"));
    assertThat(ledger.accounted(AUDITED)).isTrue();

    Tally t = ledger.tally(TOPICS);
    assertThat(t.exact()).isTrue();
    assertThat(t.summary()).containsExactly(Map.entry("sent", 3L), Map.entry("enriched", 2L), Map.entry("dlq", 1L),
        Map.entry("routed", 1L), Map.entry("lost", 0L), Map.entry("duplicated", 0L), Map.entry("unexpected", 0L));
    assertThat(t.output("routed").topic()).isEqualTo("t.gpt");
  }

  @Test
  void missingDuplicateMisplacedAndUnknownOutputsAreCounted() {
    OutputLedger ledger = new OutputLedger();
    ledger.expect("lost", Outcome.ENRICHED, false);
    ledger.expect("twice", Outcome.ENRICHED, true);
    ledger.expect("valid-but-dead", Outcome.ENRICHED, false);
    ledger.expect("bad", Outcome.DEAD_LETTER, false);
    ledger.record(Output.ENRICHED, keyed("id", "twice"));
    ledger.record(Output.ENRICHED, keyed("id", "twice"));
    ledger.record(Output.ROUTED, keyed("input_id", "twice"));
    ledger.record(Output.ROUTED, keyed("input_id", "twice"));
    ledger.record(Output.ROUTED, keyed("input_id", "twice"));
    ledger.record(Output.DEAD_LETTER, keyed("id", "valid-but-dead"));
    ledger.record(Output.DEAD_LETTER, keyed("id", "bad"));
    ledger.record(Output.ENRICHED, keyed("id", "never-sent"));
    ledger.record(Output.ENRICHED, JSON.createObjectNode());

    Tally t = ledger.tally(TOPICS);
    assertThat(t.exact()).isFalse();
    assertThat(t.output("enriched")).isEqualTo(new Tally.OutputCount("enriched", "t.enriched", 3, 4, 2, 1, 2));
    assertThat(t.output("dlq")).isEqualTo(new Tally.OutputCount("dlq", "t.dlq", 1, 2, 0, 0, 1));
    assertThat(t.output("routed")).isEqualTo(new Tally.OutputCount("routed", "t.gpt", 1, 3, 0, 2, 0));
    assertThat(t.lost()).isEqualTo(2);
    assertThat(t.duplicated()).isEqualTo(3);
    assertThat(t.unexpected()).isEqualTo(3);
  }

  @Test
  void answersOfTheGptStageAreExpectedForRoutedInputsOnlyWhenAudited() {
    OutputLedger ledger = new OutputLedger();
    ledger.expect("r", Outcome.ENRICHED, true);
    ledger.expect("p", Outcome.ENRICHED, false);
    ledger.record(Output.ENRICHED, keyed("id", "r"));
    ledger.record(Output.ENRICHED, keyed("id", "p"));
    ledger.record(Output.ROUTED, keyed("input_id", "r"));
    assertThat(ledger.accounted(AUDITED)).isTrue();
    Set<Output> withAnswers = java.util.EnumSet.of(Output.ENRICHED, Output.DEAD_LETTER, Output.ROUTED, Output.ANSWERED);
    assertThat(ledger.accounted(withAnswers)).as("r is not answered yet").isFalse();
    ledger.record(Output.ANSWERED, keyed("input_id", "r"));
    assertThat(ledger.accounted(withAnswers)).isTrue();
    ledger.record(Output.ANSWERED, keyed("input_id", "p"));
    Map<Output, String> topics = new java.util.EnumMap<>(TOPICS);
    topics.put(Output.ANSWERED, "t.summaries+t.replies");
    Tally t = ledger.tally(topics);
    assertThat(t.output("answered")).isEqualTo(new Tally.OutputCount("answered", "t.summaries+t.replies", 1, 2, 0, 0, 1));
    assertThat(t.summary()).containsEntry("answered", 2L);
    assertThat(ledger.tally(TOPICS).summary()).doesNotContainKey("answered");
  }

  @Test
  void anInputKeyIsDeclaredOnce() {
    OutputLedger ledger = new OutputLedger();
    ledger.expect("a", Outcome.ENRICHED, false);
    assertThatThrownBy(() -> ledger.expect("a", Outcome.DEAD_LETTER, false))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("declared twice");
  }

  @Test
  void standardMixIsValidInvalidAndRoutedInFixedShares() {
    EventFeed.Mix mix = EventFeed.standardMix("m");
    int enriched = 0;
    int dead = 0;
    int routed = 0;
    for (long seq = 0; seq < 100; seq++) {
      EventFeed.Event e = mix.event(seq);
      if (e.outcome() == Outcome.ENRICHED) {
        enriched++;
        assertThat(e.id()).isEqualTo("m-" + seq);
      } else {
        dead++;
        assertThat(e.id()).as("an unreadable event's dead letter is keyed by its coordinates").isNull();
      }
      routed += e.routed() ? 1 : 0;
    }
    assertThat(enriched).isEqualTo(90);
    assertThat(dead).isEqualTo(10);
    assertThat(routed).isEqualTo(10);
    assertThat(new String(mix.event(19).value(), java.nio.charset.StandardCharsets.UTF_8)).contains("not JSON");
    assertThat(new String(mix.event(9).value(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"text\":9");
  }
}
