package io.nlpstream.models.gpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The decoder's shape and special tokens, read from a Hugging Face model directory's
 * {@code config.json} and (when present) {@code generation_config.json}.
 *
 * <p>Two naming families are understood: GPT-2 ({@code n_layer}, {@code n_head}, {@code n_embd},
 * {@code n_positions}) and Llama/Qwen/Mistral ({@code num_hidden_layers},
 * {@code num_attention_heads}, {@code num_key_value_heads}, {@code hidden_size}, {@code head_dim},
 * {@code max_position_embeddings}). End-of-sequence ids come from {@code generation_config.json}
 * first (that is what {@code generate()} uses), else from {@code config.json}; either may hold one id
 * or a list.
 *
 * @param modelType        {@code model_type}, e.g. {@code gpt2}, {@code llama}, {@code qwen2}
 * @param layers           decoder layers: the number of {@code past_key_values.N.*} pairs
 * @param attentionHeads   query heads
 * @param kvHeads          key/value heads (fewer than {@code attentionHeads} with grouped-query attention)
 * @param headDim          size of one head
 * @param vocabSize        rows of the output projection ({@code logits}' last dimension)
 * @param contextLength    positions the model was trained for (prompt + generated tokens)
 * @param eosTokenIds      token ids that end a sequence; may be empty (then only stop strings and
 *                         length end it)
 * @param bosTokenId       beginning-of-sequence id, if the config names one
 * @param padTokenId       id fed at padded positions (never attended to): {@code pad_token_id}, else
 *                         the first EOS id, else 0; always inside the vocabulary
 */
public record DecoderConfig(
    String modelType,
    int layers,
    int attentionHeads,
    int kvHeads,
    int headDim,
    int vocabSize,
    int contextLength,
    List<Long> eosTokenIds,
    OptionalLong bosTokenId,
    long padTokenId) {

  public DecoderConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads {@code modelDir/config.json} and {@code modelDir/generation_config.json} (optional).
   *
   * @throws ModelLoadException naming the file when it is missing, unreadable or lacks a field
   */
  public static DecoderConfig read(Path modelDir) {
    Path configFile = modelDir.resolve("config.json");
    JsonNode config = readJson(configFile, true);
    Path generationFile = modelDir.resolve("generation_config.json");
    JsonNode generation = readJson(generationFile, false);

    String file = configFile.toString();
    String modelType = config.path("model_type").asText("unknown");
    int layers = requiredInt(config, file, "num_hidden_layers", "n_layer");
    int heads = requiredInt(config, file, "num_attention_heads", "n_head");
    int kvHeads = optionalInt(config, heads, "num_key_value_heads");
    int hidden = requiredInt(config, file, "hidden_size", "n_embd");
    int headDim = optionalInt(config, 0, "head_dim");
    if (headDim == 0) {
      if (hidden % heads != 0) {
        throw new ModelLoadException(file, "hidden size " + hidden + " is not divisible by " + heads
            + " attention heads and no head_dim is given");
      }
      headDim = hidden / heads;
    }
    int vocab = requiredInt(config, file, "vocab_size");
    int context = requiredInt(config, file, "max_position_embeddings", "n_positions", "n_ctx");
    if (layers < 1 || heads < 1 || kvHeads < 1 || headDim < 1 || vocab < 1 || context < 2) {
      throw new ModelLoadException(file, "implausible dimensions: layers=" + layers + " heads=" + heads
          + " kv_heads=" + kvHeads + " head_dim=" + headDim + " vocab=" + vocab + " context=" + context);
    }
    if (heads % kvHeads != 0) {
      throw new ModelLoadException(file, "num_attention_heads " + heads
          + " is not a multiple of num_key_value_heads " + kvHeads);
    }

    List<Long> eos = generation != null && generation.has("eos_token_id")
        ? ids(generation.get("eos_token_id"))
        : ids(config.get("eos_token_id"));
    JsonNode bosNode = generation != null && generation.has("bos_token_id")
        ? generation.get("bos_token_id") : config.get("bos_token_id");
    OptionalLong bos = bosNode != null && bosNode.canConvertToLong()
        ? OptionalLong.of(bosNode.asLong()) : OptionalLong.empty();
    JsonNode padNode = generation != null && generation.has("pad_token_id")
        ? generation.get("pad_token_id") : config.get("pad_token_id");
    // Padded positions are masked, but their ids still go through the embedding lookup: keep them in range.
    long pad = 0;
    if (padNode != null && padNode.canConvertToLong() && padNode.asLong() >= 0 && padNode.asLong() < vocab) {
      pad = padNode.asLong();
    } else {
      pad = eos.stream().filter(id -> id >= 0 && id < vocab).findFirst().orElse(0L);
    }
    return new DecoderConfig(modelType, layers, heads, kvHeads, headDim, vocab, context, eos, bos, pad);
  }

  private static JsonNode readJson(Path file, boolean required) {
    if (!Files.isRegularFile(file)) {
      if (required) {
        throw new ModelLoadException(file.toString(), "missing (a Hugging Face model directory needs it)");
      }
      return null;
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw new ModelLoadException(file.toString(), "not a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new ModelLoadException(file.toString(), "unreadable JSON: " + e.getMessage(), e);
    }
  }

  private static int requiredInt(JsonNode config, String file, String... keys) {
    for (String key : keys) {
      JsonNode v = config.get(key);
      if (v != null && v.canConvertToInt()) {
        return v.asInt();
      }
    }
    throw new ModelLoadException(file, "none of " + String.join(", ", keys) + " is set");
  }

  private static int optionalInt(JsonNode config, int fallback, String key) {
    JsonNode v = config.get(key);
    return v != null && v.canConvertToInt() ? v.asInt() : fallback;
  }

  private static List<Long> ids(JsonNode node) {
    List<Long> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (node.isArray()) {
      node.forEach(n -> out.add(n.asLong()));
    } else if (node.canConvertToLong()) {
      out.add(node.asLong());
    }
    return out;
  }
}
