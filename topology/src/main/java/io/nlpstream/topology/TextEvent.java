package io.nlpstream.topology;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * A validated input text event (see {@code schemas/text-event.schema.json}).
 *
 * @param id        the event's own id, or {@link SourceRecord#derivedId()} when it had none
 * @param text      non-blank text to analyse
 * @param source    where the text comes from (free form, e.g. {@code chat}), or null
 * @param lang      language tag, or null
 * @param task      GPT task requested by the producer, or null
 * @param metadata  opaque JSON object passed through, or null. Owned by this event: never mutated.
 * @param timestamp event time from the {@code timestamp} field, or null when absent
 */
public record TextEvent(String id, String text, String source, String lang, Task task, ObjectNode metadata,
                        Instant timestamp) {

  public TextEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(text, "text");
  }
}
