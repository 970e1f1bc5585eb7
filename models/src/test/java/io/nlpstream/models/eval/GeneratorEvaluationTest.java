package io.nlpstream.models.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The baselines' rules, and a whole evaluation run through the tiny GPT-2 fixture's continuous batcher. */
class GeneratorEvaluationTest {

  @Test
  void leadTakesWholeSentencesFirstAndCutsAtTheWordLimit() {
    String text = "Amanda: I baked cookies. Do you want some?\nJerry: Sure!\nAmanda: I'll bring you tomorrow :-)";
    assertThat(GeneratorEvaluation.lead(text, 4)).isEqualTo("Amanda: I baked cookies.");
    assertThat(GeneratorEvaluation.lead(text, 7)).isEqualTo("Amanda: I baked cookies. Do you want");
    assertThat(GeneratorEvaluation.lead(text, 100)).isEqualTo(text.replaceAll("\\s+", " "));
  }

  @Test
  void theLeadLengthIsTheDataSetMeanOfPerExampleMeanReferenceLengths() {
    List<SummaryExample> data = List.of(
        new SummaryExample("a", "x", List.of("one two", "one two three four")),   // mean 3
        new SummaryExample("b", "y", List.of("one two three four five six seven")));  // 7
    assertThat(GeneratorEvaluation.meanReferenceWords(data)).isEqualTo(5);
  }

  @Test
  void theReplyBaselineIsTheMostFrequentTurnAfterTheFirst() {
    List<List<String>> train = List.of(
        List.of("Hello", "Thank you.", "Bye"),
        List.of("Thank you.", "OK", "Thank you."),
        List.of("Hi", "OK"));
    // "Thank you." opens a dialogue once (not a reply) and answers twice; "OK" answers twice: tie -> "OK" < "Thank you."
    assertThat(GeneratorEvaluation.mostFrequentReply(train)).isEqualTo("OK");
  }

  @Test
  void summaryAndReplyRunsScoreTheModelAndTheBaseline() throws Exception {
    Path fixture = Path.of(GeneratorEvaluationTest.class.getResource("/gpt/tiny-gpt2").toURI());
    OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));
    List<SummaryExample> summaries = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      summaries.add(new SummaryExample("s" + i, "The meeting number " + i + " ended early. Everyone went home.",
          List.of("The meeting number " + i + " ended early.")));
    }
    List<ReplyExample> replies = List.of(new ReplyExample(List.of("Hi", "How are you?"), "Fine, thanks."),
        new ReplyExample(List.of("Is it raining?"), "OK"));
    try (Generator g = Generator.open(fixture, runtime, GeneratorOptions.builder().maxWaiting(4).build())) {
      List<Integer> progress = new ArrayList<>();
      Map<String, Object> s = GeneratorEvaluation.summary(g, summaries, DecodingParams.greedy(6), 3, progress::add);
      assertThat(s.get("n")).isEqualTo(12);
      assertThat(progress).hasSize(12).endsWith(12);
      for (String k : List.of("rouge1", "rouge2", "rougeL")) {
        assertThat((double) s.get(k)).isBetween(0.0, 1.0);
      }
      assertThat((double) s.get("tokens_per_s")).isPositive();
      @SuppressWarnings("unchecked")
      Map<String, Object> b = (Map<String, Object>) s.get("baseline");
      // The lead cut to the references' length (6 words) is exactly the reference here.
      assertThat((double) b.get("rouge1")).isEqualTo(1.0);
      assertThat((String) b.get("rule")).contains("6 words");

      Map<String, Object> r = GeneratorEvaluation.reply(g, replies,
          List.of(List.of("a", "OK"), List.of("b", "OK"), List.of("c", "Sure")), DecodingParams.greedy(4), 8, n -> { });
      assertThat(r.get("n")).isEqualTo(2);
      @SuppressWarnings("unchecked")
      Map<String, Object> rb = (Map<String, Object>) r.get("baseline");
      assertThat((double) rb.get("rouge1")).isEqualTo(0.5);   // "OK" matches one of the two references
    }
  }
}
