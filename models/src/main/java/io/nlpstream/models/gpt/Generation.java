package io.nlpstream.models.gpt;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The result of one request.
 *
 * @param text             generated text, special tokens dropped, cut before a matched stop string
 * @param promptTokens     tokens of the prompt the model saw (template + kept input + special tokens)
 * @param generatedTokens  tokens the model generated, an EOS token included
 * @param finishReason     {@code STOP} (EOS or stop string) or {@code LENGTH} (max_new_tokens or context full)
 * @param truncated        true when the input was cut to fit the context
 * @param latency          from {@code submit} to completion (queueing included)
 * @param timeToFirstToken from {@code submit} to the first generated token
 * @param tokenIds         the generated token ids, in order (an EOS token included)
 */
public record Generation(
    String text,
    int promptTokens,
    int generatedTokens,
    FinishReason finishReason,
    boolean truncated,
    Duration latency,
    Duration timeToFirstToken,
    List<Long> tokenIds) {

  public Generation {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    tokenIds = List.copyOf(tokenIds);
  }
}
