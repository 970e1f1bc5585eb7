package io.nlpstream.models.gpt;

import java.util.Objects;

/**
 * One thing to generate.
 *
 * @param id     the caller's id (e.g. the input record's id), carried into logs and errors only
 * @param kind   selects the prompt template
 * @param text   the untrusted input: an article to summarize or a conversation to reply to; must
 *               not be blank
 * @param params decoding parameters
 */
public record GenerationRequest(String id, GenerationKind kind, String text, DecodingParams params) {

  public GenerationRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(params, "params");
    if (text.isBlank()) {
      throw new IllegalArgumentException("request " + id + ": text is blank");
    }
  }
}
