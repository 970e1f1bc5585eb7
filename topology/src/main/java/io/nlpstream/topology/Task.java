package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.Optional;

/** What the GPT stage is asked to do with a text. Written in JSON as its lower-case name. */
public enum Task {
  SUMMARY,
  REPLY;

  @JsonValue
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The task of {@code code} ({@code summary} or {@code reply}, exact), or empty. */
  public static Optional<Task> ofCode(String code) {
    for (Task t : values()) {
      if (t.code().equals(code)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
