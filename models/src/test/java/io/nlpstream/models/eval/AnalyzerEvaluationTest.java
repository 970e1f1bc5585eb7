package io.nlpstream.models.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.bert.Analysis.Sentiment;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.eval.TaggedSentence.EntitySpan;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The scoring around the analyzer, with a scripted analyzer standing in for the model. */
class AnalyzerEvaluationTest {

  private static TextAnalyzer scripted(Function<String, Analysis> script) {
    return new TextAnalyzer() {
      @Override
      public List<Analysis> analyze(List<String> texts) {
        return texts.stream().map(script).toList();
      }

      @Override
      public int tokenCount(String text) {
        return text.length();
      }

      @Override
      public Map<String, String> models() {
        return Map.of("encoder", "scripted");
      }

      @Override
      public void close() {}
    };
  }

  private static Analysis withSentiment(String label, double neg, double neu, double pos) {
    double top = Math.max(neg, Math.max(neu, pos));
    return new Analysis(new Sentiment(label, top, Map.of("negative", neg, "neutral", neu, "positive", pos)),
        List.of(), List.of(new ClassScore("World", 1)), false, 3);
  }

  @Test
  void binaryDataComparesPositiveAgainstNegativeOnly() {
    // Predicted "neutral" but positive beats negative: counts as positive on binary data.
    TextAnalyzer analyzer = scripted(t -> t.equals("good")
        ? withSentiment("neutral", 0.1, 0.6, 0.3) : withSentiment("neutral", 0.3, 0.6, 0.1));
    Map<String, Object> out = AnalyzerEvaluation.sentiment(analyzer,
        List.of(new LabelledText("good", "positive"), new LabelledText("bad", "negative")), null);
    assertThat(out).containsEntry("n", 2).containsEntry("accuracy", 1.0);
    assertThat((String) out.get("labels")).startsWith("binary");
  }

  @Test
  void threeClassDataScoresTheArgmaxAndReportsMacroRecall() {
    TextAnalyzer analyzer = scripted(t -> withSentiment("neutral", 0.1, 0.6, 0.3));
    Map<String, Object> out = AnalyzerEvaluation.sentiment(analyzer, List.of(new LabelledText("a", "neutral"),
        new LabelledText("b", "positive"), new LabelledText("c", "negative")), null);
    assertThat((double) out.get("accuracy")).isCloseTo(1.0 / 3, within(1e-12));
    assertThat((double) out.get("macro_recall")).isCloseTo(1.0 / 3, within(1e-12));
  }

  @Test
  void entitiesAreMappedToWordsAndMisalignedSpansMatchNothing() {
    TaggedSentence s = new TaggedSentence(List.of("Peter", "Blackburn", "visited", "Paris"),
        List.of("B-PER", "I-PER", "O", "B-LOC"));
    String text = s.text(); // "Peter Blackburn visited Paris"
    assertThat(AnalyzerEvaluation.toWords(s, new Entity("Peter Blackburn", "PER", 0, 15, 1)))
        .isEqualTo(new EntitySpan("PER", 0, 2));
    assertThat(AnalyzerEvaluation.toWords(s, new Entity("Blackbur", "PER", 6, 14, 1)).start()).isEqualTo(-1);

    TextAnalyzer analyzer = scripted(t -> new Analysis(new Sentiment("neutral", 1), List.of(
        new Entity("Peter Blackburn", "PER", 0, 15, 0.9), new Entity("Pari", "LOC", 24, 28, 0.9)),
        List.of(), false, 5));
    Map<String, Object> out = AnalyzerEvaluation.ner(analyzer, List.of(s), false, null);
    assertThat(text.substring(24, 29)).isEqualTo("Paris");
    assertThat(out).containsEntry("precision", 0.5).containsEntry("recall", 0.5);
  }

  @Test
  void wnutScoresOnlyTheTypesTheModelHas() {
    TaggedSentence s = new TaggedSentence(List.of("Apple", "released", "iPhone", "in", "Texas"),
        List.of("B-corporation", "O", "B-product", "O", "B-location"));
    TextAnalyzer analyzer = scripted(t -> new Analysis(new Sentiment("neutral", 1), List.of(
        new Entity("Apple", "ORG", 0, 5, 0.9), new Entity("iPhone", "MISC", 15, 21, 0.9),
        new Entity("Texas", "LOC", 25, 30, 0.9)), List.of(), false, 5));
    Map<String, Object> out = AnalyzerEvaluation.ner(analyzer, List.of(s), true, null);
    // product (gold) and MISC (predicted) are out of scope: 2 of 2 scored entities found.
    assertThat(out).containsEntry("precision", 1.0).containsEntry("recall", 1.0);
  }
}
