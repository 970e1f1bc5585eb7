package io.nlpstream.models.bert;

import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Sentiment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sentiment head: softmax over the sentiment logits; the most probable label with its probability.
 * Labels must be among {@code negative}, {@code neutral}, {@code positive} (the {@link
 * Analysis.Sentiment} contract). Immutable and thread-safe.
 */
public final class SentimentHead {

  private static final Set<String> LABELS = Set.of("negative", "neutral", "positive");

  private final ClassHead head;

  /** @param labels labels in the order of the model's logits */
  public SentimentHead(List<String> labels) {
    for (String label : labels) {
      if (!LABELS.contains(label)) {
        throw new IllegalArgumentException("sentiment label '" + label + "' is not one of negative, neutral, positive");
      }
    }
    this.head = new ClassHead(labels);
  }

  public List<String> labels() {
    return head.labels();
  }

  /** The most probable sentiment from {@code logits[offset .. offset + labels)}. */
  public Sentiment sentiment(float[] logits, int offset) {
    List<ClassScore> scores = head.scores(logits, offset);
    Map<String, Double> probabilities = new LinkedHashMap<>();
    for (ClassScore s : scores) {
      probabilities.put(s.label(), s.score());
    }
    return new Sentiment(scores.get(0).label(), scores.get(0).score(), probabilities);
  }
}
