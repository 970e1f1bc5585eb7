package io.nlpstream.topology;

import java.util.Objects;

/** What the parse step hands to the BERT stage: the validated event and the record it came from. */
public record ParsedInput(SourceRecord origin, TextEvent event) implements HasOrigin {

  public ParsedInput {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(event, "event");
  }
}
