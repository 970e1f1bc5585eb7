package io.nlpstream.models.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.catalog.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code model.json} of a pulled repository: which catalogue kind it is (from {@code
 * config.json architectures}), the files the kind takes with their sha256, and where it came from
 * ({@code source}: ignored by the runtime, read by {@code nlpstream models list}).
 */
final class PulledManifest {

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PulledManifest() {}

  /**
   * The catalogue kind of a model whose {@code config.json} is {@code config}: {@code
   * *ForCausalLM} and {@code *LMHeadModel} are {@value ModelManifest#GPT_DECODER}, {@code
   * *ForSequenceClassification} {@value ModelManifest#HF_SEQUENCE_CLASSIFICATION}, {@code
   * *ForTokenClassification} {@value ModelManifest#HF_TOKEN_CLASSIFICATION}.
   *
   * @throws HubException naming the architectures when none of them is one of these
   */
  static String kind(String repo, JsonNode config) {
    List<String> architectures = new ArrayList<>();
    config.path("architectures").forEach(a -> architectures.add(a.asText()));
    for (String a : architectures) {
      if (a.endsWith("ForCausalLM") || a.endsWith("LMHeadModel")) {
        return ModelManifest.GPT_DECODER;
      }
      if (a.endsWith("ForSequenceClassification")) {
        return ModelManifest.HF_SEQUENCE_CLASSIFICATION;
      }
      if (a.endsWith("ForTokenClassification")) {
        return ModelManifest.HF_TOKEN_CLASSIFICATION;
      }
    }
    throw new HubException(repo + ": config.json architectures " + architectures + " is not a causal language model"
        + " (*ForCausalLM, *LMHeadModel), a sequence classifier or a token classifier, the kinds nlpstream runs;"
        + " give --kind to say which one it is");
  }

  /** {@code chatml} when the tokenizer's chat template uses ChatML markers (Qwen and others), else {@code plain}. */
  static String promptStyle(Optional<JsonNode> tokenizerConfig) {
    return tokenizerConfig.map(c -> c.path("chat_template").toString().contains("<|im_start|>")).orElse(false)
        ? "chatml" : "plain";
  }

  /** Provenance of a pull, recorded under {@code source}. */
  record Source(String endpoint, String repo, String revision, String commit) {}

  /**
   * Builds the manifest.
   *
   * @param files every pulled file by repository path
   * @throws HubException when a file the kind needs was not pulled
   */
  static ObjectNode build(String id, String kind, Source source, String graph, Map<String, Downloaded> files,
                          Optional<String> promptStyle) {
    ObjectNode m = JSON.createObjectNode();
    m.put("id", id).put("version", source.commit().substring(0, 12)).put("kind", kind);
    m.set("model", ref(source.repo(), graph, files, "the ONNX graph"));
    m.set("tokenizer", ref(source.repo(), "tokenizer.json", files,
        "the fast tokenizer (nlpstream tokenizes with tokenizer.json)"));
    m.set("config", ref(source.repo(), "config.json", files, "the model configuration"));
    if (ModelManifest.GPT_DECODER.equals(kind)) {
      if (files.containsKey("generation_config.json")) {
        m.set("generation_config", ref(source.repo(), "generation_config.json", files, ""));
      }
      m.put("prompt_templates", promptStyle.orElse("plain"));
    }
    ObjectNode src = m.putObject("source");
    src.put("hub", source.endpoint()).put("repo", source.repo()).put("revision", source.revision())
        .put("commit", source.commit()).put("pulled_at", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    ArrayNode list = src.putArray("files");
    files.values().stream().sorted((a, b) -> a.file().path().compareTo(b.file().path())).forEach(d -> list.addObject()
        .put("file", d.file().path()).put("size", d.file().size()).put("sha256", d.sha256()));
    return m;
  }

  private static ObjectNode ref(String repo, String path, Map<String, Downloaded> files, String what) {
    Downloaded d = files.get(path);
    if (d == null) {
      throw new HubException(repo + ": " + path + " (" + what + ") was not pulled: the repository has none at its"
          + " root, or --include left it out");
    }
    ObjectNode ref = JSON.createObjectNode();
    ref.put("file", path).put("sha256", d.sha256());
    return ref;
  }

  /** Writes {@code manifest} to {@code dir/model.json} through a temporary file and an atomic move. */
  static Path write(Path dir, ObjectNode manifest) throws IOException {
    Path target = dir.resolve("model.json");
    Path tmp = dir.resolve("model.json.tmp");
    JSON.writeValue(tmp.toFile(), manifest);
    Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return target;
  }
}
