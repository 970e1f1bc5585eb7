package io.nlpstream.models.gpt;

import java.util.Arrays;

/**
 * Turns a request's text into prompt token ids: sanitize the input, render the kind's template,
 * tokenize the whole prompt as the model's tokenizer does, and cut an input that does not fit.
 *
 * <p>Truncation policy: the prompt may use {@code contextLength - maxNewTokens} tokens. When it
 * needs more, the <em>input</em> is cut at a token boundary (the template is never cut): a
 * {@link PromptTemplate.Keep#START START} template keeps the input's first tokens (articles), an
 * {@link PromptTemplate.Keep#END END} template its last tokens (conversations). The kept tokens are
 * decoded back to text and the prompt is rendered and tokenized again, so the final ids are exactly
 * what the tokenizer makes of the final prompt text; when the re-tokenized prompt still overshoots
 * (merges across the cut), a few more tokens are dropped until it fits. The result is flagged
 * {@link EncodedPrompt#truncated()}.
 *
 * <p>Before tokenizing, an input longer than {@value #CHARS_PER_TOKEN_BOUND} characters per budget
 * token is cut by characters on the side the template drops, so that a huge input costs bounded
 * tokenizer work; such an input cannot fit anyway unless its tokens average more than that many
 * characters.
 *
 * <p>Thread-safe (stateless apart from the thread-safe tokenizer).
 */
final class PromptEncoder {

  /** No tokenizer in use averages this many characters per token over a text. */
  static final int CHARS_PER_TOKEN_BOUND = 64;

  private final DecoderTokenizer tokenizer;
  private final PromptTemplates templates;
  private final int contextLength;

  PromptEncoder(DecoderTokenizer tokenizer, PromptTemplates templates, int contextLength) {
    this.tokenizer = tokenizer;
    this.templates = templates;
    this.contextLength = contextLength;
  }

  PromptTemplates templates() {
    return templates;
  }

  /**
   * @throws IllegalArgumentException when the template alone leaves no room for any input within
   *                                  {@code contextLength - maxNewTokens}, or when the prompt is empty
   */
  EncodedPrompt encode(GenerationKind kind, String text, int maxNewTokens) {
    PromptTemplate template = templates.forKind(kind);
    int budget = contextLength - maxNewTokens;
    String bounded = precut(text, template.keep(), Math.max(0, budget));
    boolean precut = bounded.length() < text.length();
    String input = template.sanitize(bounded, tokenizer.specialTokens());
    long[] ids = tokenizer.encodePrompt(template.render(input));
    if (ids.length == 0) {
      throw new IllegalArgumentException("the " + kind.wireName() + " prompt is empty once markers and special"
          + " tokens are removed from the input: nothing to generate from");
    }
    long[] inputIds = tokenizer.encode(input);
    if (ids.length <= budget) {
      return new EncodedPrompt(ids, precut, inputIds.length, inputIds.length, input);
    }
    int keep = inputIds.length - (ids.length - budget);
    while (keep > 0) {
      long[] kept = template.keep() == PromptTemplate.Keep.START
          ? Arrays.copyOfRange(inputIds, 0, keep)
          : Arrays.copyOfRange(inputIds, inputIds.length - keep, inputIds.length);
      // Decoding can bring a marker back only through text the sanitizer already saw; sanitize again anyway.
      String keptText = template.sanitize(tokenizer.decode(kept), tokenizer.specialTokens());
      ids = tokenizer.encodePrompt(template.render(keptText));
      if (ids.length <= budget) {
        return new EncodedPrompt(ids, true, inputIds.length, keep, keptText);
      }
      keep -= ids.length - budget;
    }
    throw new IllegalArgumentException("the " + kind.wireName() + " template alone needs more than "
        + budget + " tokens (context " + contextLength + " minus max_new_tokens " + maxNewTokens + ")");
  }

  /** At most {@code budget * CHARS_PER_TOKEN_BOUND} chars of {@code text}, from the kept side, whole code points. */
  private static String precut(String text, PromptTemplate.Keep keep, int budget) {
    long max = (long) budget * CHARS_PER_TOKEN_BOUND;
    if (text.length() <= max) {
      return text;
    }
    int n = (int) max;
    if (keep == PromptTemplate.Keep.START) {
      int end = Character.isLowSurrogate(text.charAt(n)) ? n - 1 : n;
      return text.substring(0, end);
    }
    int start = text.length() - n;
    if (Character.isLowSurrogate(text.charAt(start))) {
      start++;
    }
    return text.substring(start);
  }
}
