package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.Analysis;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A record of the enriched topic ({@code schemas/enriched-event.schema.json}), keyed by {@link #id()}:
 * the input event's fields plus what the BERT stage found.
 *
 * @param id           the event id (its own, or derived from the input coordinates)
 * @param text         the analysed text, unchanged
 * @param source       from the input, or null
 * @param lang         from the input, or null
 * @param task         from the input, or null
 * @param metadata     from the input, or null
 * @param timestamp    event time, ISO-8601 UTC: the input's {@code timestamp} field, else the Kafka
 *                     record timestamp
 * @param sentiment    sentence-level sentiment
 * @param entities     named entities with UTF-16 char offsets into {@code text}
 * @param classes      class labels, highest score first
 * @param models       model ids and versions used, by role ({@code TextAnalyzer.models()})
 * @param truncated    true when the sentence-level heads saw only the first encoder window
 * @param tokens       encoder tokens of the whole text
 * @param sourceOffset where the input record was read
 * @param origin       the input record (not written; lets the exception handler dead-letter it)
 */
public record EnrichedEvent(String id, String text, String source, String lang, Task task, ObjectNode metadata,
                            String timestamp, Analysis.Sentiment sentiment, List<Analysis.Entity> entities,
                            List<Analysis.ClassScore> classes, Map<String, String> models, boolean truncated,
                            int tokens, SourceOffset sourceOffset, @JsonIgnore SourceRecord origin)
    implements HasOrigin {

  public EnrichedEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(sentiment, "sentiment");
    entities = List.copyOf(entities);
    classes = List.copyOf(classes);
    models = Map.copyOf(models);
  }

  /** Coordinates of the input record. */
  public record SourceOffset(String topic, int partition, long offset) {}

  /** Joins a parsed input with its analysis. */
  public static EnrichedEvent of(ParsedInput input, Analysis analysis, Map<String, String> models) {
    TextEvent e = input.event();
    SourceRecord o = input.origin();
    String timestamp = e.timestamp() != null ? e.timestamp().toString()
        : o.timestamp() >= 0 ? java.time.Instant.ofEpochMilli(o.timestamp()).toString() : null;
    return new EnrichedEvent(e.id(), e.text(), e.source(), e.lang(), e.task(), e.metadata(), timestamp,
        analysis.sentiment(), analysis.entities(), analysis.classes(), models, analysis.truncated(),
        analysis.tokens(), new SourceOffset(o.topic(), o.partition(), o.offset()), o);
  }

  /** The highest-scoring class label, or null when the analysis has no classes. */
  public String topClass() {
    Analysis.ClassScore best = null;
    for (Analysis.ClassScore c : classes) {
      if (best == null || c.score() > best.score()) {
        best = c;
      }
    }
    return best == null ? null : best.label();
  }
}
