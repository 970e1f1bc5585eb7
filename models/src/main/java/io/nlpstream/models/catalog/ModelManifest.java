package io.nlpstream.models.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A catalogue entry's {@code model.json}: which files make the model, their sha256, and the label
 * order of its outputs. Unknown fields are ignored (model cards may add provenance); missing,
 * ill-typed or misplaced ones fail the load naming the field.
 *
 * <p>Three kinds (see {@code package-info} for examples):
 * <ul>
 *   <li>{@value #BERT_MULTIHEAD}, encoder + heads form: {@code encoder} (with its tokenizer,
 *       {@code max_tokens} and {@code hidden_size}), {@code heads}, {@code labels}.</li>
 *   <li>{@value #BERT_MULTIHEAD}, fused form: {@code model} (one graph from token ids to the three
 *       logits), {@code tokenizer}, {@code max_tokens}, {@code labels}; no {@code encoder}.</li>
 *   <li>{@value #HF_SEQUENCE_CLASSIFICATION} / {@value #HF_TOKEN_CLASSIFICATION}: a Hugging Face
 *       ONNX export, {@code model}, {@code tokenizer}, {@code config} (its {@code config.json}, which
 *       gives the labels and the window); optional {@code max_tokens} (at most what {@code
 *       config.json} allows), {@code label_map} (sequence classification: model label to contract
 *       label) and {@code entity_types} (token classification: model entity type to PER, ORG, LOC,
 *       MISC or O).</li>
 * </ul>
 * <ul>
 *   <li>{@value #GPT_DECODER}: a decoder-only language model for the GPT stage in the Hugging Face
 *       layout ({@code io.nlpstream.models.gpt}): {@code model} (the decoder-with-past graph),
 *       {@code tokenizer}, {@code config}, optional {@code generation_config}; optional
 *       {@code prompt_templates} ({@code plain} or {@code chatml}, default {@code plain}) and
 *       {@code context_tokens} (caps the model's context). Files are plain relative paths.</li>
 * </ul>
 * File references are either {@code classpath:<resource>} (e.g. the MiniLM weight-carrier jar)
 * or a plain relative path inside the bundle directory.
 *
 * @param kind        one of {@link #KINDS}
 * @param encoder     encoder + heads form: the encoder and its tokenizer
 * @param heads       encoder + heads form: the heads graph fed by the encoder's {@code last_hidden_state}
 * @param model       fused and Hugging Face kinds: the graph taking token ids
 * @param tokenizer   fused and Hugging Face kinds: the {@code tokenizer.json}
 * @param config      Hugging Face kinds: the {@code config.json}
 * @param maxTokens   fused (required) and Hugging Face (optional) kinds: window size, [CLS] and [SEP] included
 * @param labels      {@value #BERT_MULTIHEAD}: output label orders
 * @param labelMap    {@value #HF_SEQUENCE_CLASSIFICATION}: model label ({@code id2label} value) to contract label
 * @param entityTypes {@value #HF_TOKEN_CLASSIFICATION}: model entity type to PER, ORG, LOC, MISC, or O to ignore it
 * @param generationConfig {@value #GPT_DECODER}: the {@code generation_config.json} (optional)
 * @param promptTemplates  {@value #GPT_DECODER}: built-in prompt style, {@code plain} or {@code chatml} (optional)
 * @param contextTokens    {@value #GPT_DECODER}: context (prompt + generated) the model is used with, at most
 *                         its own (optional; absent = the model's)
 */
public record ModelManifest(String id, String version, String kind, Encoder encoder, FileRef heads,
                            FileRef model, FileRef tokenizer, FileRef config,
                            @JsonProperty("max_tokens") Integer maxTokens, Labels labels,
                            @JsonProperty("label_map") Map<String, String> labelMap,
                            @JsonProperty("entity_types") Map<String, String> entityTypes,
                            @JsonProperty("generation_config") FileRef generationConfig,
                            @JsonProperty("prompt_templates") String promptTemplates,
                            @JsonProperty("context_tokens") Integer contextTokens) {

  /** A multi-head bundle (sentiment, classes and entities from one network). */
  public static final String BERT_MULTIHEAD = "bert-multihead";
  /** A Hugging Face sequence classifier: sentiment or classes. */
  public static final String HF_SEQUENCE_CLASSIFICATION = "hf-sequence-classification";
  /** A Hugging Face token classifier: entities. */
  public static final String HF_TOKEN_CLASSIFICATION = "hf-token-classification";
  /** A decoder-only language model of the GPT stage. */
  public static final String GPT_DECODER = "gpt-decoder";
  /** The kinds this runtime runs. */
  public static final List<String> KINDS =
      List.of(BERT_MULTIHEAD, HF_SEQUENCE_CLASSIFICATION, HF_TOKEN_CLASSIFICATION, GPT_DECODER);
  /** Prompt styles a {@value #GPT_DECODER} bundle may name. */
  public static final List<String> PROMPT_STYLES = List.of("plain", "chatml");

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

  /** The encoder section. {@code max_tokens} includes [CLS] and [SEP]. */
  public record Encoder(
      String id,
      String file,
      String sha256,
      String tokenizer,
      @JsonProperty("tokenizer_sha256") String tokenizerSha256,
      @JsonProperty("max_tokens") Integer maxTokens,
      @JsonProperty("hidden_size") Integer hiddenSize) {}

  /** A file and its expected sha256 (lower-case hex). */
  public record FileRef(String file, String sha256) {}

  /** Label orders of the logits outputs. */
  public record Labels(List<String> sentiment, List<String> classes, List<String> entities) {}

  /** Whether this is the fused form of {@value #BERT_MULTIHEAD}. */
  public boolean fused() {
    return BERT_MULTIHEAD.equals(kind) && model != null;
  }

  /** The roles a model of this kind can serve. */
  public Set<Role> servableRoles() {
    return switch (kind) {
      case HF_SEQUENCE_CLASSIFICATION -> EnumSet.of(Role.SENTIMENT, Role.CLASSES);
      case HF_TOKEN_CLASSIFICATION -> EnumSet.of(Role.ENTITIES);
      case GPT_DECODER -> EnumSet.noneOf(Role.class);
      default -> EnumSet.allOf(Role.class);
    };
  }

  /** Display id of the heads/model: {@code <id>@<version>}. */
  public String versionedId() {
    return id + "@" + version;
  }

  /**
   * Parses and validates a {@code model.json}.
   *
   * @param source names the file in messages
   * @throws ModelLoadException naming the file and the offending field
   */
  public static ModelManifest parse(String source, byte[] json) {
    ModelManifest m;
    try {
      m = JSON.readValue(json, ModelManifest.class);
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? "(document)" : path(e.getPath());
      throw new ModelLoadException(source, "invalid model.json at field " + field + ": " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new ModelLoadException(source, "malformed model.json: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
          + ", column " + e.getLocation().getColumnNr()), e);
    } catch (IOException e) {
      throw new ModelLoadException(source, "cannot read model.json: " + e.getMessage(), e);
    }
    if (m == null) {
      throw new ModelLoadException(source, "model.json is empty");
    }
    m.validate(source);
    return m;
  }

  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  private void validate(String source) {
    required(source, "id", id);
    required(source, "version", version);
    required(source, "kind", kind);
    if (!KINDS.contains(kind)) {
      throw new ModelLoadException(source, "field kind is '" + kind + "', this runtime runs one of " + KINDS);
    }
    if (!GPT_DECODER.equals(kind)) {
      String why = "it belongs to kind " + GPT_DECODER;
      absent(source, "generation_config", generationConfig, why);
      absent(source, "prompt_templates", promptTemplates, why);
      absent(source, "context_tokens", contextTokens, why);
    }
    if (BERT_MULTIHEAD.equals(kind)) {
      validateMultihead(source);
    } else if (GPT_DECODER.equals(kind)) {
      validateDecoder(source);
    } else {
      validateHuggingFace(source);
    }
  }

  private void validateMultihead(String source) {
    absent(source, "config", config, "it belongs to the Hugging Face kinds");
    absent(source, "label_map", labelMap, "it belongs to kind " + HF_SEQUENCE_CLASSIFICATION);
    absent(source, "entity_types", entityTypes, "it belongs to kind " + HF_TOKEN_CLASSIFICATION);
    if ((heads == null) == (model == null)) {
      throw new ModelLoadException(source, "exactly one of the fields heads (with encoder) and model (fused) must be"
          + " present, found " + (heads == null ? "neither" : "both"));
    }
    if (heads != null) {
      absent(source, "tokenizer", tokenizer, "the encoder + heads form takes encoder.tokenizer");
      absent(source, "max_tokens", maxTokens, "the encoder + heads form takes encoder.max_tokens");
      required(source, "encoder", encoder);
      required(source, "encoder.id", encoder.id());
      required(source, "encoder.tokenizer", encoder.tokenizer());
      sha(source, "encoder.tokenizer_sha256", encoder.tokenizerSha256());
      maxTokens(source, "encoder.max_tokens", encoder.maxTokens());
      required(source, "encoder.hidden_size", encoder.hiddenSize());
      if (encoder.hiddenSize() < 1) {
        throw new ModelLoadException(source, "field encoder.hidden_size must be >= 1, was " + encoder.hiddenSize());
      }
      required(source, "encoder.file", encoder.file());
      sha(source, "encoder.sha256", encoder.sha256());
      fileRef(source, "heads", heads);
    } else {
      absent(source, "encoder", encoder, "the fused form (model) takes top-level tokenizer and max_tokens");
      fileRef(source, "model", model);
      fileRef(source, "tokenizer", tokenizer);
      maxTokens(source, "max_tokens", maxTokens);
    }
    required(source, "labels", labels);
    labelList(source, "labels.sentiment", labels.sentiment());
    labelList(source, "labels.classes", labels.classes());
    labelList(source, "labels.entities", labels.entities());
  }

  private void validateHuggingFace(String source) {
    String why = "kind " + kind + " takes model, tokenizer and config (labels come from config.json id2label)";
    absent(source, "encoder", encoder, why);
    absent(source, "heads", heads, why);
    absent(source, "labels", labels, why);
    fileRef(source, "model", model);
    fileRef(source, "tokenizer", tokenizer);
    fileRef(source, "config", config);
    if (maxTokens != null) {
      maxTokens(source, "max_tokens", maxTokens);
    }
    if (HF_SEQUENCE_CLASSIFICATION.equals(kind)) {
      absent(source, "entity_types", entityTypes, "it belongs to kind " + HF_TOKEN_CLASSIFICATION);
      mapping(source, "label_map", labelMap);
    } else {
      absent(source, "label_map", labelMap, "kind " + kind + " maps entity types with entity_types");
      mapping(source, "entity_types", entityTypes);
    }
  }

  private void validateDecoder(String source) {
    String why = "kind " + kind + " takes model, tokenizer, config and optional generation_config";
    absent(source, "encoder", encoder, why);
    absent(source, "heads", heads, why);
    absent(source, "labels", labels, why);
    absent(source, "max_tokens", maxTokens, "kind " + kind + " takes context_tokens");
    absent(source, "label_map", labelMap, why);
    absent(source, "entity_types", entityTypes, why);
    fileRef(source, "model", model);
    fileRef(source, "tokenizer", tokenizer);
    fileRef(source, "config", config);
    if (generationConfig != null) {
      fileRef(source, "generation_config", generationConfig);
    }
    for (FileRef ref : decoderFiles()) {
      if (ref.file().startsWith(ModelCatalog.CLASSPATH_PREFIX)) {
        throw new ModelLoadException(source, "file " + ref.file() + ": a " + kind
            + " bundle's files are relative paths inside the bundle, not classpath references");
      }
    }
    // The decoder runtime reads the Hugging Face layout by these names.
    fixedName(source, "tokenizer.file", tokenizer.file(), "tokenizer.json");
    fixedName(source, "config.file", config.file(), "config.json");
    if (generationConfig != null) {
      fixedName(source, "generation_config.file", generationConfig.file(), "generation_config.json");
    }
    if (promptTemplates != null && !PROMPT_STYLES.contains(promptTemplates)) {
      throw new ModelLoadException(source, "field prompt_templates is '" + promptTemplates + "', expected one of "
          + PROMPT_STYLES);
    }
    if (contextTokens != null && contextTokens < 2) {
      throw new ModelLoadException(source, "field context_tokens must be >= 2, was " + contextTokens);
    }
  }

  /**
   * The files of a {@value #GPT_DECODER} bundle, in the layout its directory must have (the decoder
   * runtime reads {@code config.json}, {@code generation_config.json} and {@code tokenizer.json} by
   * those names).
   */
  public List<FileRef> decoderFiles() {
    List<FileRef> files = new java.util.ArrayList<>(List.of(model, tokenizer, config));
    if (generationConfig != null) {
      files.add(generationConfig);
    }
    return files;
  }

  private static void fixedName(String source, String field, String actual, String expected) {
    if (!expected.equals(actual)) {
      throw new ModelLoadException(source, "field " + field + " must be " + expected + " (the Hugging Face layout"
          + " the decoder reads), was '" + actual + "'");
    }
  }

  private static void fileRef(String source, String field, FileRef ref) {
    required(source, field, ref);
    required(source, field + ".file", ref.file());
    sha(source, field + ".sha256", ref.sha256());
  }

  private static void maxTokens(String source, String field, Integer value) {
    required(source, field, value);
    if (value < 3) {
      throw new ModelLoadException(source, "field " + field + " must be >= 3, was " + value);
    }
  }

  private static void mapping(String source, String field, Map<String, String> map) {
    if (map == null) {
      return;
    }
    map.forEach((k, v) -> {
      if (k.isBlank() || v == null || v.isBlank()) {
        throw new ModelLoadException(source, "field " + field + " maps '" + k + "' to '" + v
            + "': keys and values must be non-blank strings");
      }
    });
  }

  private static void absent(String source, String field, Object value, String why) {
    if (value != null) {
      throw new ModelLoadException(source, "field " + field + " does not belong here: " + why);
    }
  }

  private static void required(String source, String field, Object value) {
    if (value == null || (value instanceof String s && s.isBlank())) {
      throw new ModelLoadException(source, "required field " + field + " is missing");
    }
  }

  private static void sha(String source, String field, String value) {
    required(source, field, value);
    if (!SHA256.matcher(value).matches()) {
      throw new ModelLoadException(source, "field " + field + " must be 64 lower-case hex digits, was '" + value + "'");
    }
  }

  private static void labelList(String source, String field, List<String> values) {
    required(source, field, values);
    if (values.size() < 2 || values.stream().anyMatch(v -> v == null || v.isBlank())) {
      throw new ModelLoadException(source, "field " + field + " must list at least two non-blank labels, was " + values);
    }
  }
}
