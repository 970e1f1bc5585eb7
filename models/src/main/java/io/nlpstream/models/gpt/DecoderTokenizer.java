package io.nlpstream.models.gpt;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The decoder's own tokenizer ({@code tokenizer.json}, through DJL's binding of Hugging Face
 * tokenizers), with every option explicit: DJL ignores padding/truncation settings in the file and
 * would otherwise pad or cut with its own defaults.
 *
 * <p>A rendered prompt is encoded as Hugging Face's {@code tokenizer(text)} does, with the special
 * tokens of the tokenizer's post-processor (Llama's {@code <s>}; nothing for GPT-2 or Qwen); the
 * untrusted input alone is encoded without them, to count and cut it.
 *
 * <p>Thread safety: safe for concurrent use; the native tokenizer is immutable after construction.
 * Ownership: the {@link Generator} that opened it closes it.
 */
final class DecoderTokenizer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HuggingFaceTokenizer tokenizer;
  private final String file;
  private final List<String> specialTokens;
  private final long maxTokenId;

  private DecoderTokenizer(HuggingFaceTokenizer tokenizer, String file, List<String> specialTokens, long maxTokenId) {
    this.tokenizer = tokenizer;
    this.file = file;
    this.maxTokenId = maxTokenId;
    this.specialTokens = List.copyOf(specialTokens);
  }

  /** Loads {@code tokenizer.json}; throws {@link ModelLoadException} naming the file. */
  static DecoderTokenizer open(Path tokenizerJson) {
    String file = tokenizerJson.toString();
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new ModelLoadException(file, "missing (the decoder's tokenizer is required)");
    }
    List<String> specials = new ArrayList<>();
    long maxId = -1;
    try {
      JsonNode root = JSON.readTree(tokenizerJson.toFile());
      for (JsonNode token : root.path("added_tokens")) {
        maxId = Math.max(maxId, token.path("id").asLong(-1));
        if (token.path("special").asBoolean(false) && !token.path("content").asText().isEmpty()) {
          specials.add(token.path("content").asText());
        }
      }
      JsonNode vocab = root.path("model").path("vocab");
      if (vocab.isObject()) { // BPE, WordPiece, WordLevel: token -> id
        for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
          maxId = Math.max(maxId, id.asLong(-1));
        }
      } else if (vocab.isArray()) { // Unigram: [token, score] pairs, id = index
        maxId = Math.max(maxId, vocab.size() - 1L);
      }
    } catch (IOException e) {
      throw new ModelLoadException(file, "unreadable JSON: " + e.getMessage(), e);
    }
    // DJL "calls home" when it creates a tokenizer: EC2 metadata probes (1 s timeouts) and, on EC2, a
    // telemetry request. A streaming service makes no such calls; opt out unless the operator chose.
    if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
    try {
      HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
          Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false"));
      return new DecoderTokenizer(tokenizer, file, specials, maxId);
    } catch (IOException | RuntimeException e) {
      throw new ModelLoadException(file, "cannot be loaded as a Hugging Face tokenizer: " + e.getMessage(), e);
    }
  }

  /** Token ids of a whole prompt, with the post-processor's special tokens (e.g. a leading BOS). */
  long[] encodePrompt(String text) {
    return tokenizer.encode(text, true, false).getIds();
  }

  /** Token ids of {@code text} alone, no special tokens added. */
  long[] encode(String text) {
    if (text.isEmpty()) {
      return new long[0];
    }
    return tokenizer.encode(text, false, false).getIds();
  }

  /** Text of {@code ids}, special tokens dropped. */
  String decode(long[] ids) {
    return ids.length == 0 ? "" : tokenizer.decode(ids, true);
  }

  /**
   * Contents of the tokenizer's special added tokens ({@code <|endoftext|>}, {@code <s>},
   * {@code <|im_start|>}, ...). The tokenizer turns these strings into control tokens wherever they
   * occur in a text, so untrusted input must not contain them.
   */
  List<String> specialTokens() {
    return specialTokens;
  }

  String file() {
    return file;
  }

  /** The largest token id the tokenizer can produce (its vocabulary and added tokens). */
  long maxTokenId() {
    return maxTokenId;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
