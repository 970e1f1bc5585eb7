package io.nlpstream.models.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the runtime reads from a Hugging Face {@code config.json}: the labels in output order
 * ({@code id2label}) and the longest input the position embeddings allow.
 *
 * @param source                what the file is called in messages
 * @param labels                {@code id2label} values by index 0..n-1
 * @param maxPositionEmbeddings {@code max_position_embeddings}
 * @param modelType             {@code model_type}, or "" when absent
 */
record HuggingFaceConfig(String source, List<String> labels, int maxPositionEmbeddings, String modelType) {

  /**
   * Model types whose position ids start after the padding index (RoBERTa's {@code padding_idx + 1}
   * = 2), so that two of their {@code max_position_embeddings} cannot hold tokens.
   */
  static final Set<String> POSITION_OFFSET_TYPES = Set.of("roberta", "xlm-roberta", "camembert", "mpnet");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Parses and checks a {@code config.json}.
   *
   * @throws ModelLoadException naming {@code source} when the JSON is malformed, {@code id2label} is
   *                            missing, not indexed 0..n-1 or has blank or repeated labels, or
   *                            {@code max_position_embeddings} is missing
   */
  static HuggingFaceConfig parse(String source, byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ModelLoadException(source, "malformed config.json: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()), e);
    } catch (IOException e) {
      throw new ModelLoadException(source, "cannot read config.json: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelLoadException(source, "config.json is not a JSON object");
    }
    JsonNode id2label = root.get("id2label");
    if (id2label == null || !id2label.isObject() || id2label.isEmpty()) {
      throw new ModelLoadException(source, "config.json has no id2label: the runtime needs the name of each"
          + " output label (export the fine-tuned model with its labels, or add id2label by hand)");
    }
    TreeMap<Integer, String> byIndex = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int index;
      try {
        index = Integer.parseInt(e.getKey());
      } catch (NumberFormatException nfe) {
        throw new ModelLoadException(source, "config.json id2label key '" + e.getKey() + "' is not a label index");
      }
      if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
        throw new ModelLoadException(source, "config.json id2label[" + e.getKey() + "] is not a non-blank string");
      }
      byIndex.put(index, e.getValue().asText());
    }
    if (byIndex.firstKey() != 0 || byIndex.lastKey() != byIndex.size() - 1) {
      throw new ModelLoadException(source, "config.json id2label must be indexed 0.." + (byIndex.size() - 1)
          + ", has indices " + byIndex.keySet());
    }
    List<String> labels = new ArrayList<>(byIndex.values());
    if (labels.stream().distinct().count() != labels.size()) {
      throw new ModelLoadException(source, "config.json id2label repeats a label: " + labels);
    }
    JsonNode positions = root.get("max_position_embeddings");
    if (positions == null || !positions.canConvertToInt() || positions.asInt() < 3) {
      throw new ModelLoadException(source, "config.json has no usable max_position_embeddings (the longest input"
          + " the model takes), found " + positions);
    }
    JsonNode type = root.get("model_type");
    return new HuggingFaceConfig(source, List.copyOf(labels), positions.asInt(),
        type != null && type.isTextual() ? type.asText() : "");
  }

  /** Longest sequence the model takes, [CLS] and [SEP] included. */
  int maxTokens() {
    return POSITION_OFFSET_TYPES.contains(modelType) ? maxPositionEmbeddings - 2 : maxPositionEmbeddings;
  }
}
