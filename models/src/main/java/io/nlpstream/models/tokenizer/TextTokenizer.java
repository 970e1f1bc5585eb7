package io.nlpstream.models.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face {@code tokenizer.json} (via DJL's offline native tokenizers) that encodes a whole
 * text without truncation or padding and gives token offsets as Java UTF-16 offsets into the
 * original text. Windowing and special tokens are the caller's job (see {@link #clsId()}, {@link
 * #sepId()}).
 *
 * <p>Why the conversions: DJL hands back offsets in Unicode code points (Rust {@code char}s), not
 * UTF-16 units, so every astral character (emoji, some CJK) before a token would shift a naive
 * offset. The tokenizer's normaliser (lower-casing, accent stripping) is alignment-tracking, so the
 * offsets index the original string, not the normalised one. A lone surrogate cannot cross JNI
 * intact (it comes out as several code points and shifts every later offset), so unpaired surrogates
 * are replaced by U+FFFD, which has the same length, before encoding. A token's end is extended over
 * combining marks that directly follow it (accent stripping drops them from the span), so that an
 * entity built from tokens covers "e&#x301;" and not just "e".
 *
 * <p>Thread-safe: encoding only reads the native tokenizer (Rust {@code Tokenizer::encode} takes
 * {@code &self}); its truncation and padding are set once here. Ownership: the creator closes it.
 */
public final class TextTokenizer implements AutoCloseable {

  static {
    // DJL would otherwise try to "call home" on EC2; nlpstream never reaches the network at run time.
    if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
  }

  private final String source;
  private final HuggingFaceTokenizer tokenizer;
  private final long clsId;
  private final long sepId;
  private final long padId;

  private TextTokenizer(String source, HuggingFaceTokenizer tokenizer) {
    this.source = source;
    this.tokenizer = tokenizer;
    Encoding empty = tokenizer.encode("", true, false);
    long[] special = empty.getIds();
    if (special.length != 2) {
      throw new ModelLoadException(source, "not a BERT-style tokenizer: the empty text encodes to "
          + java.util.Arrays.toString(empty.getTokens()) + ", expected [CLS] and [SEP]");
    }
    this.clsId = special[0];
    this.sepId = special[1];
    // Padding positions are masked out, so the id only needs to be a valid one; the real one still
    // matters to graphs that derive positions from it (RoBERTa's [PAD] is <pad>).
    long pad = 0;
    for (String candidate : new String[] {"[PAD]", "<pad>"}) {
      long[] ids = tokenizer.encode(candidate, false, false).getIds();
      if (ids.length == 1) {
        pad = ids[0];
        break;
      }
    }
    this.padId = pad;
  }

  /**
   * Loads a tokenizer from the contents of a {@code tokenizer.json}.
   *
   * @param source names the file in messages, e.g. {@code classpath:all-minilm-l6-v2-tokenizer.json}
   * @throws ModelLoadException if the JSON is not a usable tokenizer
   */
  public static TextTokenizer fromJson(String source, byte[] json) {
    Objects.requireNonNull(json, "json");
    // DJL does not honour tokenizer.json's truncation/padding: state ours explicitly.
    Map<String, String> options = Map.of(
        "addSpecialTokens", "false",
        "truncation", "false",
        "padding", "false",
        "withOverflowingTokens", "false");
    HuggingFaceTokenizer tokenizer;
    try {
      tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
    } catch (IOException | RuntimeException e) {
      throw new ModelLoadException(source, "cannot load the tokenizer: " + e.getMessage(), e);
    }
    try {
      return new TextTokenizer(source, tokenizer);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /** The file this tokenizer was loaded from. */
  public String source() {
    return source;
  }

  /** Id of the sequence-start token ({@code [CLS]}). */
  public long clsId() {
    return clsId;
  }

  /** Id of the separator/end token ({@code [SEP]}). */
  public long sepId() {
    return sepId;
  }

  /** Id used for padding positions: {@code [PAD]}, else {@code <pad>}, else 0. */
  public long padId() {
    return padId;
  }

  /**
   * Encodes the whole text (no truncation, no special tokens).
   *
   * @throws InferenceException if the native tokenizer fails or returns offsets outside the text
   */
  public Tokens encode(String text) {
    Objects.requireNonNull(text, "text");
    String safe = replaceLoneSurrogates(text);
    Encoding encoding;
    try {
      encoding = tokenizer.encode(safe, false, false);
    } catch (RuntimeException e) {
      throw new InferenceException("tokenizer", source, "tokenization failed: " + e.getMessage(), e);
    }
    long[] ids = encoding.getIds();
    long[] words = encoding.getWordIds();
    CharSpan[] spans = encoding.getCharTokenSpans();
    int[] utf16 = codePointToUtf16(safe);
    int codePoints = utf16.length - 1;
    int n = ids.length;
    int[] starts = new int[n];
    int[] ends = new int[n];
    int[] wordIds = new int[n];
    for (int i = 0; i < n; i++) {
      int s = spans[i].getStart();
      int e = spans[i].getEnd();
      if (s < 0 || e < s || e > codePoints) {
        throw new InferenceException("tokenizer", source, "token " + i + " has offsets [" + s + ", " + e
            + ") outside a text of " + codePoints + " code points", null);
      }
      starts[i] = utf16[s];
      ends[i] = utf16[e];
      wordIds[i] = (int) words[i];
    }
    for (int i = 0; i < n; i++) {
      int limit = i + 1 < n ? Math.max(ends[i], starts[i + 1]) : safe.length();
      ends[i] = extendOverMarks(safe, ends[i], limit);
    }
    return new Tokens(ids, starts, ends, wordIds);
  }

  /** {@code result[k]} = UTF-16 index of code point {@code k}; {@code result[count]} = length. */
  private static int[] codePointToUtf16(String text) {
    int[] map = new int[text.codePointCount(0, text.length()) + 1];
    int k = 0;
    for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) {
      map[k++] = i;
    }
    map[k] = text.length();
    return map;
  }

  private static int extendOverMarks(String text, int end, int limit) {
    while (end < limit) {
      int cp = text.codePointAt(end);
      int type = Character.getType(cp);
      if (type != Character.NON_SPACING_MARK && type != Character.ENCLOSING_MARK
          && type != Character.COMBINING_SPACING_MARK) {
        break;
      }
      end += Character.charCount(cp);
    }
    return end;
  }

  private static String replaceLoneSurrogates(String text) {
    char[] chars = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        if (chars == null) {
          chars = text.toCharArray();
        }
        chars[i] = '\uFFFD';
      }
    }
    return chars == null ? text : new String(chars);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
