package io.nlpstream.models.eval;

import java.util.List;

/** A text to summarise and every reference summary given for it. */
public record SummaryExample(String id, String text, List<String> references) {
  public SummaryExample {
    references = List.copyOf(references);
  }
}
