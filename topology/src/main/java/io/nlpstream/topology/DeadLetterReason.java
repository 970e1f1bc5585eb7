package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Why a record went to the dead-letter topic. The codes are a stable contract (dashboards and replay
 * tools match on them): add codes, never rename or reuse one.
 */
public enum DeadLetterReason {
  /** Not JSON: syntax error, empty value, duplicate field, trailing data, or a null value (tombstone). */
  NOT_JSON,
  /** JSON, but not an object. */
  NOT_OBJECT,
  /** No {@code text} field, or {@code text} is null. */
  MISSING_TEXT,
  /** {@code text} is empty or only whitespace. */
  EMPTY_TEXT,
  /** A known field has the wrong JSON type (e.g. {@code text} is a number, {@code metadata} an array). */
  WRONG_TYPE,
  /** A known field has the right type but a value outside its domain (unknown {@code task}, bad date, blank id). */
  INVALID_VALUE,
  /** The bytes are not valid UTF-8, or {@code text} holds an unpaired surrogate (it has no UTF-8 form). */
  INVALID_UTF8,
  /** Over {@code max.input.bytes} (checked before any parsing), over the parser's nesting/number limits, or a text over {@code max.text.chars}; or an output record the broker refused as too large. */
  TOO_LARGE,
  /** The model failed on this record (after the batcher isolated it from the rest of its batch). */
  INFERENCE_ERROR,
  /** An unexpected exception while processing this record: a bug, reported by the exception handlers. */
  PROCESSING_ERROR;

  @JsonValue
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
