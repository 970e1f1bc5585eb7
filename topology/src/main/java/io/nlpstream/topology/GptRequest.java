package io.nlpstream.topology;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.Analysis;
import java.util.List;
import java.util.Objects;

/**
 * A record of the GPT requests topic ({@code schemas/gpt-request.schema.json}), keyed by
 * {@link #inputId()}. The GPT stage answers each (input id, kind) once.
 *
 * @param inputId   id of the enriched event it derives from
 * @param kind      what to generate
 * @param text      the text to summarise or answer
 * @param source    from the input, or null
 * @param lang      from the input, or null
 * @param sentiment from the BERT stage
 * @param classes   from the BERT stage, highest score first
 * @param metadata  from the input, or null
 * @param routedBy  {@code task} when the input asked for it, else the text of the routing rule that matched
 * @param timestamp event time, ISO-8601 UTC, or null
 */
public record GptRequest(String inputId, Task kind, String text, String source, String lang,
                         Analysis.Sentiment sentiment, List<Analysis.ClassScore> classes, ObjectNode metadata,
                         String routedBy, String timestamp) {

  public GptRequest {
    Objects.requireNonNull(inputId, "inputId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(routedBy, "routedBy");
    classes = classes == null ? null : List.copyOf(classes);
  }

  static GptRequest of(EnrichedEvent e, Task kind, String routedBy) {
    return new GptRequest(e.id(), kind, e.text(), e.source(), e.lang(), e.sentiment(), e.classes(), e.metadata(),
        routedBy, e.timestamp());
  }
}
