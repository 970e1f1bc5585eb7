package io.nlpstream.models.gpt;

import java.util.Arrays;

/**
 * A prompt ready for the decoder.
 *
 * @param ids         token ids of the whole rendered prompt, special tokens included
 * @param truncated   true when the input was cut to fit the context
 * @param inputTokens tokens of the sanitized input before the token-level cut (a huge input is first
 *                    cut by characters, see {@link PromptEncoder})
 * @param keptTokens  tokens of the input that were kept (equal to {@code inputTokens} unless truncated)
 * @param keptText    the part of the sanitized input that went into the prompt
 */
public record EncodedPrompt(long[] ids, boolean truncated, int inputTokens, int keptTokens, String keptText) {

  public EncodedPrompt {
    ids = ids.clone();
  }

  @Override
  public long[] ids() {
    return ids.clone();
  }

  /** Number of prompt tokens. */
  public int length() {
    return ids.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EncodedPrompt p && Arrays.equals(ids, p.ids) && truncated == p.truncated
        && inputTokens == p.inputTokens && keptTokens == p.keptTokens && keptText.equals(p.keptText);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(ids) * 31 + keptText.hashCode();
  }

  @Override
  public String toString() {
    return "EncodedPrompt[" + ids.length + " tokens, truncated=" + truncated + "]";
  }
}
