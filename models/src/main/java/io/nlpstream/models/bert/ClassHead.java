package io.nlpstream.models.bert;

import io.nlpstream.models.bert.Analysis.ClassScore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Sentence classification head: softmax over one row of logits, labels in the model's output
 * order. Immutable and thread-safe.
 */
public final class ClassHead {

  private final List<String> labels;

  /** @param labels class labels in the order of the model's logits; at least two, distinct */
  public ClassHead(List<String> labels) {
    this.labels = List.copyOf(labels);
    if (this.labels.size() < 2) {
      throw new IllegalArgumentException("a class head needs at least two labels, got " + this.labels);
    }
    if (this.labels.stream().distinct().count() != this.labels.size()) {
      throw new IllegalArgumentException("class labels are not distinct: " + this.labels);
    }
  }

  public List<String> labels() {
    return labels;
  }

  /** All labels with their probabilities, highest first, from {@code logits[offset .. offset + labels)}. */
  public List<ClassScore> scores(float[] logits, int offset) {
    float[] probs = Softmax.of(logits, offset, labels.size());
    List<ClassScore> scores = new ArrayList<>(labels.size());
    for (int i = 0; i < probs.length; i++) {
      scores.add(new ClassScore(labels.get(i), probs[i]));
    }
    scores.sort(Comparator.comparingDouble(ClassScore::score).reversed());
    return scores;
  }
}
