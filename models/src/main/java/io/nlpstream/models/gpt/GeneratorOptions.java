package io.nlpstream.models.gpt;

import java.util.Objects;
import java.util.Optional;

/**
 * Settings of one {@link Generator}. Build with {@link #builder()}; every setting has a default
 * suited to a small model on a few CPU cores.
 *
 * @param modelId          id used in logs and errors; empty = the model directory's name
 * @param onnxFile         decoder file relative to the model directory; empty = the first of
 *                         {@code model.onnx}, {@code decoder_model_merged.onnx},
 *                         {@code decoder_with_past_model.onnx}, {@code onnx/model.onnx},
 *                         {@code onnx/decoder_model_merged.onnx} that exists
 * @param templates        prompt template per kind
 * @param maxBatchSize     sequences decoded together at most
 * @param maxBatchTokens   token budget of the running batch: the sum over its sequences of
 *                         prompt tokens + {@code max_new_tokens}, reserved at admission so that a
 *                         running sequence is never evicted. A request larger than the whole budget
 *                         runs alone.
 * @param maxPrefillTokens padded tokens (sequences x longest prompt) in one prefill call: bounds the
 *                         stall that admitting long prompts causes to running sequences, and the size
 *                         of the prefill's logits output
 * @param maxWaiting       requests waiting for admission at most; {@code submit} rejects beyond
 * @param kvCache          {@code true}: prefill once, then feed one token per step with the KV cache
 *                         (production). {@code false}: recompute the whole sequence at every step,
 *                         no cache; a reference path for tests and diagnosis, far slower.
 * @param maxContextTokens caps the model's context (prompt + generated); {@code 0} = the model's own
 * @param listener         told about every decoder call (metrics); {@link DecoderCallListener#NONE} by default
 */
public record GeneratorOptions(
    Optional<String> modelId,
    Optional<String> onnxFile,
    PromptTemplates templates,
    int maxBatchSize,
    int maxBatchTokens,
    int maxPrefillTokens,
    int maxWaiting,
    boolean kvCache,
    int maxContextTokens,
    DecoderCallListener listener) {

  public GeneratorOptions {
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(onnxFile, "onnxFile");
    Objects.requireNonNull(templates, "templates");
    Objects.requireNonNull(listener, "listener");
    positive("maxBatchSize", maxBatchSize);
    positive("maxBatchTokens", maxBatchTokens);
    positive("maxPrefillTokens", maxPrefillTokens);
    positive("maxWaiting", maxWaiting);
    if (maxContextTokens < 0) {
      throw new IllegalArgumentException("maxContextTokens must be >= 0, was " + maxContextTokens);
    }
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, was " + value);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** All defaults. */
  public static GeneratorOptions defaults() {
    return builder().build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.modelId = modelId.orElse(null);
    b.onnxFile = onnxFile.orElse(null);
    b.templates = templates;
    b.maxBatchSize = maxBatchSize;
    b.maxBatchTokens = maxBatchTokens;
    b.maxPrefillTokens = maxPrefillTokens;
    b.maxWaiting = maxWaiting;
    b.kvCache = kvCache;
    b.maxContextTokens = maxContextTokens;
    b.listener = listener;
    return b;
  }

  /** Mutable builder; not thread-safe. */
  public static final class Builder {
    private String modelId;
    private String onnxFile;
    private PromptTemplates templates = PromptTemplates.plain();
    private int maxBatchSize = 16;
    private int maxBatchTokens = 16_384;
    private int maxPrefillTokens = 2_048;
    private int maxWaiting = 256;
    private boolean kvCache = true;
    private int maxContextTokens;
    private DecoderCallListener listener = DecoderCallListener.NONE;

    private Builder() {}

    public Builder modelId(String id) {
      this.modelId = id;
      return this;
    }

    public Builder onnxFile(String relativePath) {
      this.onnxFile = relativePath;
      return this;
    }

    public Builder templates(PromptTemplates t) {
      this.templates = t;
      return this;
    }

    public Builder maxBatchSize(int n) {
      this.maxBatchSize = n;
      return this;
    }

    public Builder maxBatchTokens(int n) {
      this.maxBatchTokens = n;
      return this;
    }

    public Builder maxPrefillTokens(int n) {
      this.maxPrefillTokens = n;
      return this;
    }

    public Builder maxWaiting(int n) {
      this.maxWaiting = n;
      return this;
    }

    public Builder kvCache(boolean enabled) {
      this.kvCache = enabled;
      return this;
    }

    public Builder maxContextTokens(int n) {
      this.maxContextTokens = n;
      return this;
    }

    /** Told about every decoder call, on the decoding thread; null = {@link DecoderCallListener#NONE}. */
    public Builder listener(DecoderCallListener l) {
      this.listener = l == null ? DecoderCallListener.NONE : l;
      return this;
    }

    public GeneratorOptions build() {
      return new GeneratorOptions(Optional.ofNullable(modelId), Optional.ofNullable(onnxFile), templates,
          maxBatchSize, maxBatchTokens, maxPrefillTokens, maxWaiting, kvCache, maxContextTokens, listener);
    }
  }
}
