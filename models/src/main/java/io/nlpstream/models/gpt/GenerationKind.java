package io.nlpstream.models.gpt;

import java.util.Locale;

/** What a generation request asks for; selects the {@link PromptTemplate}. */
public enum GenerationKind {
  /** Summarize an article or a conversation. */
  SUMMARY,
  /** Write the next turn of a conversation. */
  REPLY;

  /** The name used in records and configuration: {@code summary} or {@code reply}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@link #wireName()}.
   *
   * @throws IllegalArgumentException for anything else (a bad request, for the dead-letter topic)
   */
  public static GenerationKind fromWireName(String name) {
    for (GenerationKind kind : values()) {
      if (kind.wireName().equals(name)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown generation kind '" + name + "', expected summary or reply");
  }
}
