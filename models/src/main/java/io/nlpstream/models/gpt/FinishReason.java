package io.nlpstream.models.gpt;

import java.util.Locale;

/** Why a sequence ended. */
public enum FinishReason {
  /** The model produced an end-of-sequence token, or the text reached a stop string. */
  STOP,
  /** {@code max_new_tokens} were generated, or the model's context is full. */
  LENGTH;

  /** The name used in records: {@code stop} or {@code length}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
