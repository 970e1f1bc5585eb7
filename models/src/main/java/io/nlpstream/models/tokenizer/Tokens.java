package io.nlpstream.models.tokenizer;

/**
 * The content tokens of one text (no special tokens), with offsets into the original text.
 *
 * <p>{@code start[i]}/{@code end[i]} are UTF-16 char offsets into the text as given, so that
 * {@code text.substring(start[i], end[i])} is the original span of token {@code i} (original case
 * and accents; the tokenizer's normalisation is not applied to it). Offsets are non-decreasing and
 * never split a surrogate pair. {@code wordIds[i]} numbers the pre-tokenizer word the token belongs
 * to: WordPiece continuations ({@code ##...}) share their word's id.
 *
 * <p>The arrays are owned by this object and must not be modified.
 */
public record Tokens(long[] ids, int[] starts, int[] ends, int[] wordIds) {

  public Tokens {
    if (starts.length != ids.length || ends.length != ids.length || wordIds.length != ids.length) {
      throw new IllegalArgumentException("ids, starts, ends and wordIds differ in length: "
          + ids.length + ", " + starts.length + ", " + ends.length + ", " + wordIds.length);
    }
  }

  /** Number of content tokens. */
  public int size() {
    return ids.length;
  }
}
