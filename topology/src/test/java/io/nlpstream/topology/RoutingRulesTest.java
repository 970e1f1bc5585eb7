package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.bert.Analysis;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoutingRulesTest {

  private static EnrichedEvent event(String text, String source, String lang, Task task, String sentiment,
                                     String topClass, int entities) {
    List<Analysis.Entity> ents = java.util.stream.IntStream.range(0, entities)
        .mapToObj(i -> new Analysis.Entity("X", "PER", 0, 1, 0.9)).toList();
    List<Analysis.ClassScore> classes = List.of(new Analysis.ClassScore("Other", 0.1),
        new Analysis.ClassScore(topClass, 0.8));
    return new EnrichedEvent("id", text, source, lang, task, null, null, new Analysis.Sentiment(sentiment, 0.9), ents,
        classes, Map.of(), false, RoutingRules.words(text) + 2, new EnrichedEvent.SourceOffset("t", 0, 0), null);
  }

  @Test
  void theDefaultRulesParse() {
    String defaults = (String) NlpstreamConfig.CONFIG.defaultValues().get(NlpstreamConfig.ROUTING_RULES);
    RoutingRules rules = RoutingRules.parse(defaults);
    assertThat(rules.rules()).extracting(RoutingRules.Rule::kind).containsExactly(Task.REPLY, Task.SUMMARY);
    assertThat(rules.route(event("so bad", "chat", null, null, "negative", "World", 0)))
        .contains(new RoutingRules.Route(Task.REPLY, "source=chat&sentiment=negative->reply"));
    assertThat(rules.route(event("so bad", "mail", null, null, "negative", "World", 0))).isEmpty();
    assertThat(rules.route(event("w ".repeat(151), null, null, null, "neutral", "World", 0)))
        .map(RoutingRules.Route::kind).contains(Task.SUMMARY);
    assertThat(rules.route(event("w ".repeat(150), null, null, null, "neutral", "World", 0))).isEmpty();
  }

  @Test
  void theRecordsOwnTaskWinsOverEveryRule() {
    RoutingRules rules = RoutingRules.parse("sentiment=negative->reply");
    assertThat(rules.route(event("bad", null, null, Task.SUMMARY, "negative", "World", 0)))
        .contains(new RoutingRules.Route(Task.SUMMARY, "task"));
    assertThat(RoutingRules.none().route(event("x", null, null, Task.REPLY, "neutral", "World", 0)))
        .contains(new RoutingRules.Route(Task.REPLY, "task"));
  }

  @Test
  void firstMatchingRuleWinsAndConditionsAreAnded() {
    RoutingRules rules = RoutingRules.parse(" lang = de & class != Sports -> summary ; lang=DE->reply;entities>2->reply ");
    assertThat(rules.route(event("x", null, "de", null, "neutral", "World", 0)).map(RoutingRules.Route::routedBy))
        .contains("lang = de & class != Sports -> summary");
    assertThat(rules.route(event("x", null, "De", null, "neutral", "Sports", 0)).map(RoutingRules.Route::routedBy))
        .contains("lang=DE->reply");
    assertThat(rules.route(event("x", null, null, null, "neutral", "World", 3)).map(RoutingRules.Route::kind))
        .contains(Task.REPLY);
    assertThat(rules.route(event("x", null, null, null, "neutral", "World", 2))).isEmpty();
  }

  @Test
  void anAbsentFieldNeverEqualsAndAlwaysDiffers() {
    assertThat(RoutingRules.parse("source=chat->reply").route(event("x", null, null, null, "neutral", "W", 0))).isEmpty();
    assertThat(RoutingRules.parse("source!=chat->reply").route(event("x", null, null, null, "neutral", "W", 0)))
        .isPresent();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "tokens>=5->summary | 3 | false",
      "tokens>=5->summary | 5 | true",
      "tokens<5->summary  | 4 | true",
      "tokens<=5->summary | 6 | false",
      "tokens=5->summary  | 5 | true"})
  void numberOperators(String rule, int tokens, boolean matches) {
    EnrichedEvent e = event("w ".repeat(tokens - 3) + "end", null, null, null, "neutral", "W", 0);
    assertThat(e.tokens()).isEqualTo(tokens);
    assertThat(RoutingRules.parse(rule).route(e).isPresent()).as("%s with %d tokens", rule, tokens)
        .isEqualTo(matches);
  }

  @Test
  void blankMeansNoRules() {
    assertThat(RoutingRules.parse("").rules()).isEmpty();
    assertThat(RoutingRules.parse("   ").rules()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "words>5->summary;;lang=en->reply | rule 2 '': empty rule",
      "words>5                         | rule 1 'words>5': expected exactly one '->'",
      "words>5->poem                   | rule 1 'words>5->poem': unknown kind 'poem'",
      "->summary                       | rule 1 '->summary': no condition before '->'",
      "mood=sad->reply                 | unknown field 'mood'",
      "words>many->summary             | 'many' is not an integer",
      "sentiment>3->summary            | operator '>' does not apply to text field 'sentiment'",
      "words!=3->summary               | operator '!=' does not apply to number field 'words'",
      "lang=->reply                    | condition 'lang=' has no value",
      "lang=en&&words>1->reply         | condition '' is not field op value",
      "a->b->reply                     | expected exactly one '->'"})
  void badRulesNameTheKeyTheRuleAndTheBadPart(String spec, String expected) {
    assertThatThrownBy(() -> RoutingRules.parse(spec))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value " + spec + " for configuration routing.rules")
        .hasMessageContaining(expected);
  }

  @Test
  void wordsCountsRunsOfNonWhitespace() {
    assertThat(RoutingRules.words("")).isZero();
    assertThat(RoutingRules.words("  one\ttwo\n three  ")).isEqualTo(3);
    assertThat(RoutingRules.words("a")).isEqualTo(1);
  }
}
