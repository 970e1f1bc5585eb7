package io.nlpstream.topology;

import java.util.Objects;

/**
 * A valid request of the GPT requests topic, as the GPT stage reads it (the fields it uses of
 * {@code schemas/gpt-request.schema.json}), with the record it came from.
 *
 * @param origin    the request record as read (coordinates and raw bytes)
 * @param inputId   id of the event the request derives from
 * @param kind      summary or reply
 * @param text      the text to summarise or answer (not blank)
 * @param routedBy  why it was routed ({@code task} or the rule); {@code external} when a producer
 *                  other than the BERT stage left it out
 * @param timestamp the request's event time (ISO-8601), or null
 */
public record GenerationInput(SourceRecord origin, String inputId, Task kind, String text, String routedBy,
                              String timestamp) implements HasOrigin {

  public GenerationInput {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(inputId, "inputId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(routedBy, "routedBy");
  }

  public RequestKey key() {
    return new RequestKey(inputId, kind);
  }
}
