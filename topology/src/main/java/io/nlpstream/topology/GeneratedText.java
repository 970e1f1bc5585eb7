package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.nlpstream.models.gpt.Generation;
import java.time.Instant;
import java.util.Objects;

/**
 * A record of the summaries or replies topic ({@code schemas/generation.schema.json}), keyed by
 * {@link #inputId()}: what the GPT stage generated for one request.
 *
 * @param inputId           id of the event the request derives from
 * @param kind              summary or reply
 * @param text              the generated text (special tokens dropped, cut before a stop string)
 * @param model             the generator's model id ({@code <id>@<version>})
 * @param promptTokens      tokens of the prompt the model saw
 * @param generatedTokens   tokens generated (an end-of-sequence token included)
 * @param finishReason      {@code stop} (end of sequence or stop string) or {@code length}
 * @param truncated         true when the request text was cut to fit the model's context
 * @param maxNewTokens      the generation limit that applied
 * @param latencyMs         from submission to the generator until the text was complete (queueing included)
 * @param timeToFirstTokenMs from submission to the first generated token
 * @param routedBy          from the request
 * @param requestTimestamp  the request's event time, or null
 * @param sourceOffset      where the request record was read
 * @param timestamp         when the generation completed, ISO-8601 UTC
 * @param origin            the request record (not written; lets the exception handler dead-letter it)
 */
public record GeneratedText(String inputId, Task kind, String text, String model, int promptTokens,
                            int generatedTokens, String finishReason, boolean truncated, int maxNewTokens,
                            long latencyMs, long timeToFirstTokenMs, String routedBy, String requestTimestamp,
                            EnrichedEvent.SourceOffset sourceOffset, String timestamp,
                            @JsonIgnore SourceRecord origin) implements HasOrigin {

  public GeneratedText {
    Objects.requireNonNull(inputId, "inputId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(finishReason, "finishReason");
  }

  static GeneratedText of(GenerationInput input, Generation g, String model, int maxNewTokens, long nowMs) {
    SourceRecord o = input.origin();
    return new GeneratedText(input.inputId(), input.kind(), g.text(), model, g.promptTokens(), g.generatedTokens(),
        g.finishReason().wireName(), g.truncated(), maxNewTokens, g.latency().toMillis(),
        g.timeToFirstToken() == null ? g.latency().toMillis() : g.timeToFirstToken().toMillis(), input.routedBy(),
        input.timestamp(), new EnrichedEvent.SourceOffset(o.topic(), o.partition(), o.offset()),
        Instant.ofEpochMilli(nowMs).toString(), o);
  }
}
