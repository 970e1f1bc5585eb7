package io.nlpstream.models.tokenizer;

/**
 * The casing class of each token, read from the token's span of the <em>original</em> text: what an
 * uncased (lower-casing) tokenizer throws away and named-entity recognition needs. A fused model
 * may take it as its {@code case_ids} input (a casing embedding learnt in fine-tuning).
 *
 * <p>The classes, over the span's <em>cased</em> letters only (Unicode upper-case {@code Lu} and
 * lower-case {@code Ll}; digits, punctuation and uncased scripts such as CJK do not count):
 * <ul>
 *   <li>{@value #NONE}: no cased letter ({@code "42"}, {@code ","}, {@code "東京"}, special tokens, padding)</li>
 *   <li>{@value #LOWER}: all lower-case ({@code "paris"}, {@code "##ing"}'s span {@code "ing"})</li>
 *   <li>{@value #TITLE}: the first upper-case, the rest lower-case, including a single upper-case
 *       letter ({@code "Paris"}, {@code "A"}, {@code "O'neil"})</li>
 *   <li>{@value #UPPER}: all upper-case, two letters or more ({@code "NASA"}, {@code "UK"})</li>
 *   <li>{@value #MIXED}: anything else ({@code "iPhone"}, {@code "McDonald"})</li>
 * </ul>
 * The training side must compute the same classes from the same spans (a Hugging Face fast
 * tokenizer's {@code offset_mapping}); the reference is {@code case_id} in {@code
 * models/src/test/python/make_fixture_hf.py} (Python's {@code str.isupper}/{@code str.islower}
 * per character, which agree with {@link Character#isUpperCase(int)}/{@link
 * Character#isLowerCase(int)} on letters). A WordPiece continuation is classified by its own span:
 * {@code "McDonald"} tokenized as {@code m ##c ##don ##ald} gives TITLE, LOWER, TITLE, LOWER.
 *
 * <p>Stateless and thread-safe.
 */
public final class Casing {

  public static final int NONE = 0;
  public static final int LOWER = 1;
  public static final int TITLE = 2;
  public static final int UPPER = 3;
  public static final int MIXED = 4;
  /** Number of classes: the size of a casing embedding. */
  public static final int CLASSES = 5;

  private Casing() {}

  /** The class of {@code text[start, end)} (UTF-16 offsets). */
  public static int of(CharSequence text, int start, int end) {
    int cased = 0;
    boolean firstUpper = false;
    boolean anyUpper = false;
    boolean anyLower = false;
    boolean restLower = true;
    for (int i = start; i < end; ) {
      int cp = Character.codePointAt(text, i);
      i += Character.charCount(cp);
      boolean upper = Character.isUpperCase(cp);
      boolean lower = Character.isLowerCase(cp);
      if (!upper && !lower) {
        continue;
      }
      if (cased == 0) {
        firstUpper = upper;
      } else if (!lower) {
        restLower = false;
      }
      anyUpper |= upper;
      anyLower |= lower;
      cased++;
    }
    if (cased == 0) {
      return NONE;
    }
    if (!anyUpper) {
      return LOWER;
    }
    if (firstUpper && restLower) {
      return TITLE;
    }
    if (!anyLower) {
      return UPPER;
    }
    return MIXED;
  }

  /** The class of every token of {@code tokens}, which were encoded from {@code text}. */
  public static int[] of(String text, Tokens tokens) {
    int[] classes = new int[tokens.size()];
    for (int t = 0; t < classes.length; t++) {
      classes[t] = of(text, tokens.starts()[t], tokens.ends()[t]);
    }
    return classes;
  }
}
