package io.nlpstream.topology;

import java.util.Objects;

/** The typed outcome of parsing one input record: an event, or the reason it was refused. */
public sealed interface ParseResult {

  /** The record is a valid text event. */
  record Accepted(TextEvent event) implements ParseResult {
    public Accepted {
      Objects.requireNonNull(event, "event");
    }
  }

  /** The record is refused; {@code message} says what is wrong and where. */
  record Rejected(DeadLetterReason reason, String message) implements ParseResult {
    public Rejected {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }
  }
}
