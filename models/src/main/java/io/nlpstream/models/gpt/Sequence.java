package io.nlpstream.models.gpt;

import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One request's decoding state. Created by {@code submit}; from then on touched only by the
 * decoding loop, apart from {@link #future}, which the caller may cancel.
 */
final class Sequence {

  final GenerationRequest request;
  final EncodedPrompt prompt;
  final CompletableFuture<Generation> future = new CompletableFuture<>();
  final long submittedNanos;

  private final TokenSampler sampler;
  private final List<String> stopStrings;
  private final long[] eosIds;
  private final int contextLength;
  private long[] generated = new long[16];
  private int count;
  private long firstTokenNanos;
  private FinishReason finishReason;
  private String text;

  /** Tokens of this sequence held in the KV cache (its real, unpadded length there). */
  int cached;

  /** Admitted to the batch and not yet completed (for the running count). */
  boolean admitted;

  Sequence(GenerationRequest request, EncodedPrompt prompt, List<String> templateStops, List<Long> eosIds,
           int contextLength, long submittedNanos) {
    this.request = request;
    this.prompt = prompt;
    this.submittedNanos = submittedNanos;
    this.sampler = new TokenSampler(request.params());
    List<String> stops = new ArrayList<>(templateStops);
    stops.addAll(request.params().stopStrings());
    this.stopStrings = List.copyOf(stops);
    this.eosIds = eosIds.stream().mapToLong(Long::longValue).toArray();
    this.contextLength = contextLength;
  }

  /** Tokens reserved in the batch's token budget: prompt + max_new_tokens. */
  int cost() {
    return prompt.length() + request.params().maxNewTokens();
  }

  /** Finished, or cancelled by the caller: to be dropped from the batch. */
  boolean retired() {
    return finishReason != null || future.isDone();
  }

  boolean finished() {
    return finishReason != null;
  }

  int generatedCount() {
    return count;
  }

  /** The last generated token: the input of this sequence's next decode step. */
  long lastToken() {
    return generated[count - 1];
  }

  /** Prompt and generated tokens, in order (the no-cache path recomputes over all of them). */
  long[] allTokens() {
    long[] all = Arrays.copyOf(prompt.ids(), prompt.length() + count);
    System.arraycopy(generated, 0, all, prompt.length(), count);
    return all;
  }

  /**
   * Samples the next token from this row's logits and checks the end conditions.
   *
   * @return true when the sequence has finished
   */
  boolean sample(FloatBuffer logits, int offset, int vocab, TokenSampler.Scratch scratch,
                 DecoderTokenizer tokenizer, long nowNanos) {
    long token = sampler.next(logits, offset, vocab, scratch);
    if (count == generated.length) {
      generated = Arrays.copyOf(generated, 2 * count);
    }
    generated[count++] = token;
    if (count == 1) {
      firstTokenNanos = nowNanos;
    }
    for (long eos : eosIds) {
      if (token == eos) {
        finish(FinishReason.STOP, tokenizer.decode(Arrays.copyOf(generated, count - 1)));
        return true;
      }
    }
    String soFar = null;
    if (!stopStrings.isEmpty()) {
      soFar = tokenizer.decode(Arrays.copyOf(generated, count));
      int cut = -1;
      for (String stop : stopStrings) {
        int at = soFar.indexOf(stop);
        if (at >= 0 && (cut < 0 || at < cut)) {
          cut = at;
        }
      }
      if (cut >= 0) {
        finish(FinishReason.STOP, soFar.substring(0, cut));
        return true;
      }
    }
    if (count >= request.params().maxNewTokens() || prompt.length() + count >= contextLength) {
      finish(FinishReason.LENGTH, soFar != null ? soFar : tokenizer.decode(Arrays.copyOf(generated, count)));
      return true;
    }
    return false;
  }

  private void finish(FinishReason reason, String finalText) {
    this.finishReason = reason;
    this.text = finalText;
  }

  /** The result of a finished sequence. */
  Generation result(long nowNanos) {
    List<Long> ids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ids.add(generated[i]);
    }
    return new Generation(text, prompt.length(), count, finishReason, prompt.truncated(),
        Duration.ofNanos(nowNanos - submittedNanos), Duration.ofNanos(firstTokenNanos - submittedNanos), ids);
  }
}
