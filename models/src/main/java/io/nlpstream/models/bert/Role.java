package io.nlpstream.models.bert;

import java.util.Locale;

/**
 * What the BERT stage computes for a text, each served by exactly one model of a {@link
 * BertAnalyzer}: the sentence-level sentiment and classes, and the entities over the whole text.
 */
public enum Role {
  SENTIMENT,
  ENTITIES,
  CLASSES;

  /** {@code sentiment}, {@code entities}, {@code classes}: the key in {@link TextAnalyzer#models()}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether the role reads one row of logits per text (window 0) rather than one per token. */
  public boolean sentenceLevel() {
    return this != ENTITIES;
  }
}
