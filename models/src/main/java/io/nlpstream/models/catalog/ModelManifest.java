package io.nlpstream.models.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A catalogue entry's {@code model.json}: which files make the model, their sha256, and the label
 * order of its outputs. See the bundle contract in the project brief; unknown fields are ignored
 * (model cards may add provenance), missing or ill-typed required ones fail the load.
 *
 * <p>File references are either {@code classpath:<resource>} (e.g. the MiniLM weight-carrier jar)
 * or a plain relative path inside the bundle directory.
 *
 * @param kind    {@code bert-multihead}
 * @param encoder the encoder and its tokenizer (required)
 * @param heads   heads graph fed by the encoder's {@code last_hidden_state}; exactly one of {@code
 *                heads} and {@code model} is present
 * @param model   a fused graph taking token ids and producing the logits (reserved: a later bundle)
 * @param labels  output label orders
 */
public record ModelManifest(String id, String version, String kind, Encoder encoder, FileRef heads,
                            FileRef model, Labels labels) {

  /** The kind of bundle this runtime runs. */
  public static final String BERT_MULTIHEAD = "bert-multihead";

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
    if (!BERT_MULTIHEAD.equals(kind)) {
      throw new ModelLoadException(source, "field kind is '" + kind + "', this runtime runs '" + BERT_MULTIHEAD + "'");
    }
    required(source, "encoder", encoder);
    required(source, "encoder.id", encoder.id());
    required(source, "encoder.tokenizer", encoder.tokenizer());
    sha(source, "encoder.tokenizer_sha256", encoder.tokenizerSha256());
    required(source, "encoder.max_tokens", encoder.maxTokens());
    if (encoder.maxTokens() < 3) {
      throw new ModelLoadException(source, "field encoder.max_tokens must be >= 3, was " + encoder.maxTokens());
    }
    required(source, "encoder.hidden_size", encoder.hiddenSize());
    if (encoder.hiddenSize() < 1) {
      throw new ModelLoadException(source, "field encoder.hidden_size must be >= 1, was " + encoder.hiddenSize());
    }
    if ((heads == null) == (model == null)) {
      throw new ModelLoadException(source, "exactly one of the fields heads (with encoder.file) and model must be"
          + " present, found " + (heads == null ? "neither" : "both"));
    }
    if (heads != null) {
      required(source, "encoder.file", encoder.file());
      sha(source, "encoder.sha256", encoder.sha256());
      required(source, "heads.file", heads.file());
      sha(source, "heads.sha256", heads.sha256());
    } else {
      required(source, "model.file", model.file());
      sha(source, "model.sha256", model.sha256());
    }
    required(source, "labels", labels);
    labelList(source, "labels.sentiment", labels.sentiment());
    labelList(source, "labels.classes", labels.classes());
    labelList(source, "labels.entities", labels.entities());
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
