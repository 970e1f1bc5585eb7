package io.nlpstream.models.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * A sentence of a token-tagged NER data set, its tags normalised to IOB2 (every entity starts with
 * {@code B-}). {@link #text()} joins the words with single spaces: that is the text the analyzer sees.
 */
public record TaggedSentence(List<String> words, List<String> tags) {

  public TaggedSentence {
    words = List.copyOf(words);
    tags = List.copyOf(tags);
    if (words.size() != tags.size()) {
      throw new IllegalArgumentException(words.size() + " words but " + tags.size() + " tags");
    }
  }

  public String text() {
    return String.join(" ", words);
  }

  /** Char offset of each word's first character in {@link #text()}. */
  public int[] wordStarts() {
    int[] starts = new int[words.size()];
    int pos = 0;
    for (int i = 0; i < words.size(); i++) {
      starts[i] = pos;
      pos += words.get(i).length() + 1;
    }
    return starts;
  }

  /** The gold entities, in word coordinates. */
  public List<EntitySpan> spans() {
    return spansOf(tags);
  }

  /** Decodes IOB2 tags into spans; a stray {@code I-X} after O or another type starts a new span. */
  public static List<EntitySpan> spansOf(List<String> iob2) {
    List<EntitySpan> spans = new ArrayList<>();
    String type = null;
    int start = -1;
    for (int i = 0; i <= iob2.size(); i++) {
      String tag = i < iob2.size() ? iob2.get(i) : "O";
      boolean begins = tag.startsWith("B-") || (tag.startsWith("I-") && !tag.substring(2).equals(type));
      boolean ends = tag.equals("O") || begins;
      if (type != null && ends) {
        spans.add(new EntitySpan(type, start, i));
        type = null;
      }
      if (begins) {
        type = tag.substring(2);
        start = i;
      }
    }
    return spans;
  }

  /** Converts IOB1 tags (B- only between two adjacent entities of one type) to IOB2. */
  public static List<String> iob1ToIob2(List<String> iob1) {
    List<String> out = new ArrayList<>(iob1.size());
    String previous = "O";
    for (String tag : iob1) {
      if (tag.startsWith("I-")) {
        String type = tag.substring(2);
        boolean continues = previous.length() > 2 && previous.substring(2).equals(type);
        out.add(continues ? tag : "B-" + type);
      } else {
        out.add(tag);
      }
      previous = tag;
    }
    return out;
  }

  /** An entity over words {@code [start, end)}. */
  public record EntitySpan(String type, int start, int end) {}
}
