package io.nlpstream.models.bert;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the BERT stage found in one text.
 *
 * @param sentiment the sentence-level sentiment (label positive|negative|neutral)
 * @param entities  named entities over the <em>whole</em> text, in order of {@code start};
 *                  offsets are UTF-16 char offsets into the original text
 * @param classes   class labels (e.g. AG News topics), highest score first
 * @param truncated true when the text was longer than the encoder window (of any of the models when
 *                  roles come from several), so sentence-level heads saw only its first window
 *                  (entities still cover the whole text)
 * @param tokens    encoder tokens of the whole text (special tokens of the first window included);
 *                  with several models, the largest of their counts
 */
public record Analysis(
    Sentiment sentiment, List<Entity> entities, List<ClassScore> classes, boolean truncated, int tokens) {

  public Analysis {
    Objects.requireNonNull(sentiment, "sentiment");
    entities = List.copyOf(entities);
    classes = List.copyOf(classes);
  }

  /**
   * Sentiment label and its probability in [0, 1], with the probability of every label the head
   * knows (evaluation of binary data sets compares positive against negative only).
   */
  public record Sentiment(String label, double score, Map<String, Double> probabilities) {
    public Sentiment {
      probabilities = Map.copyOf(probabilities);
    }

    /** A sentiment whose only known probability is its own. */
    public Sentiment(String label, double score) {
      this(label, score, Map.of(label, score));
    }
  }

  /**
   * A named entity: {@code text.substring(start, end).equals(this.text())} holds for the analysed
   * text. {@code type} is one of PER, ORG, LOC, MISC; {@code score} is the mean probability of its tokens.
   */
  public record Entity(String text, String type, int start, int end, double score) {}

  /** A class label and its probability in [0, 1]. */
  public record ClassScore(String label, double score) {}
}
