package io.nlpstream.models.eval;

import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.eval.TaggedSentence.EntitySpan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Scores the BERT stage's runtime (the same {@link TextAnalyzer} the pipeline uses) on labelled
 * data. Each method returns the figures as an ordered map, ready to print as one JSON object.
 * Stateless; the analyzer stays owned by the caller.
 */
public final class AnalyzerEvaluation {

  /** Texts per analyzer call; the analyzer length-sorts and cuts by its token budget itself. */
  private static final int CHUNK = 256;

  /** WNUT-17 types scored, mapped to the model's types; creative-work and product have no counterpart. */
  private static final Map<String, String> WNUT_TYPES =
      Map.of("person", "PER", "location", "LOC", "corporation", "ORG", "group", "ORG");

  private AnalyzerEvaluation() {}

  /**
   * Sentiment accuracy, macro-F1 and macro-recall. When the data has no neutral label (SST-2) the
   * prediction is positive or negative, whichever of the two is more probable: binary evaluation.
   */
  public static Map<String, Object> sentiment(TextAnalyzer analyzer, List<LabelledText> data, IntConsumer progress) {
    Set<String> gold = goldLabels(data);
    boolean binary = !gold.contains("neutral");
    List<String> labels = binary ? List.of("negative", "positive") : List.of("negative", "neutral", "positive");
    ClassificationScores scores = new ClassificationScores(labels);
    long start = System.nanoTime();
    forEachAnalysis(analyzer, texts(data), progress, (i, a) -> {
      String predicted = a.sentiment().label();
      if (binary) {
        Map<String, Double> p = a.sentiment().probabilities();
        predicted = p.getOrDefault("positive", 0.0) >= p.getOrDefault("negative", 0.0) ? "positive" : "negative";
      }
      scores.add(data.get(i).label(), predicted);
    });
    Map<String, Object> out = header("sentiment", analyzer, scores.n(), start);
    out.put("labels", binary ? "binary (positive vs negative probability)" : "3-class");
    out.put("accuracy", scores.accuracy());
    out.put("macro_f1", scores.macroF1());
    out.put("macro_recall", scores.macroRecall());
    return out;
  }

  /** Topic accuracy and macro-F1 over the labels found in the data. */
  public static Map<String, Object> topic(TextAnalyzer analyzer, List<LabelledText> data, IntConsumer progress) {
    ClassificationScores scores = new ClassificationScores(new ArrayList<>(goldLabels(data)));
    long start = System.nanoTime();
    forEachAnalysis(analyzer, texts(data), progress, (i, a) -> {
      String predicted = a.classes().isEmpty() ? "" : a.classes().get(0).label();
      scores.add(data.get(i).label(), predicted);
    });
    Map<String, Object> out = header("topic", analyzer, scores.n(), start);
    out.put("accuracy", scores.accuracy());
    out.put("macro_f1", scores.macroF1());
    return out;
  }

  /**
   * Entity-level exact-match precision, recall and F1 (CoNLL scoring). Each sentence's words are
   * joined by single spaces and analysed as one text; predicted character spans are mapped back to
   * words, and a span whose boundaries fall inside a word can match nothing. With {@code wnutTypes}
   * the gold WNUT-17 types are mapped to the model's (person PER, location LOC, corporation and group
   * ORG) and the rest (creative-work, product; MISC predictions) are not scored.
   */
  public static Map<String, Object> ner(TextAnalyzer analyzer, List<TaggedSentence> data, boolean wnutTypes,
                                        IntConsumer progress) {
    EntityScores scores = new EntityScores();
    List<String> texts = data.stream().map(TaggedSentence::text).toList();
    long start = System.nanoTime();
    forEachAnalysis(analyzer, texts, progress, (i, a) -> {
      TaggedSentence sentence = data.get(i);
      List<EntitySpan> gold = new ArrayList<>();
      for (EntitySpan g : sentence.spans()) {
        String type = wnutTypes ? WNUT_TYPES.get(g.type()) : g.type();
        if (type != null) {
          gold.add(new EntitySpan(type, g.start(), g.end()));
        }
      }
      List<EntitySpan> predicted = new ArrayList<>();
      for (Analysis.Entity e : a.entities()) {
        if (wnutTypes && !WNUT_TYPES.containsValue(e.type())) {
          continue;
        }
        predicted.add(toWords(sentence, e));
      }
      scores.add(gold, predicted);
    });
    Map<String, Object> out = header("ner", analyzer, scores.sentences(), start);
    out.put("precision", scores.precision());
    out.put("recall", scores.recall());
    out.put("f1", scores.f1());
    Map<String, Object> byType = new LinkedHashMap<>();
    scores.countsByType().forEach((type, c) -> byType.put(type, Map.of("f1", scores.f1(type), "gold", c[2],
        "predicted", c[1], "correct", c[0])));
    out.put("by_type", byType);
    if (wnutTypes) {
      out.put("scored_types", "WNUT-17 person->PER, location->LOC, corporation+group->ORG;"
          + " creative-work, product and MISC predictions not scored");
    }
    return out;
  }

  /** Maps a predicted character span to words; a span not on word boundaries gets start -1 (matches nothing). */
  static EntitySpan toWords(TaggedSentence sentence, Analysis.Entity entity) {
    int[] starts = sentence.wordStarts();
    int first = -1;
    int last = -1;
    for (int w = 0; w < starts.length; w++) {
      int end = starts[w] + sentence.words().get(w).length();
      if (starts[w] == entity.start()) {
        first = w;
      }
      if (end == entity.end()) {
        last = w;
      }
    }
    if (first < 0 || last < first) {
      return new EntitySpan(entity.type(), -1, -1);
    }
    return new EntitySpan(entity.type(), first, last + 1);
  }

  private interface AnalysisConsumer {
    void accept(int index, Analysis analysis);
  }

  private static void forEachAnalysis(TextAnalyzer analyzer, List<String> texts, IntConsumer progress,
                                      AnalysisConsumer consumer) {
    for (int from = 0; from < texts.size(); from += CHUNK) {
      int to = Math.min(texts.size(), from + CHUNK);
      List<Analysis> results = analyzer.analyze(texts.subList(from, to));
      for (int i = from; i < to; i++) {
        consumer.accept(i, results.get(i - from));
      }
      if (progress != null) {
        progress.accept(to);
      }
    }
  }

  private static List<String> texts(List<LabelledText> data) {
    return data.stream().map(LabelledText::text).toList();
  }

  private static Set<String> goldLabels(List<LabelledText> data) {
    Set<String> labels = new LinkedHashSet<>();
    data.forEach(d -> labels.add(d.label()));
    return labels;
  }

  private static Map<String, Object> header(String task, TextAnalyzer analyzer, int n, long startNanos) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("task", task);
    out.put("models", analyzer.models());
    out.put("n", n);
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    out.put("records_per_s", seconds > 0 ? n / seconds : 0);
    return out;
  }
}
