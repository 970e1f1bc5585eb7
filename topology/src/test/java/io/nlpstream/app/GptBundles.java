package io.nlpstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.catalog.ModelCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The GPT model the integration tests run: the default model ({@code gpt.model}'s default) when the
 * built-in catalogue has it, else the tiny GPT-2 fixture of the models module
 * ({@code models/src/test/resources/gpt/tiny-gpt2}: a real decoder with random weights), written as a
 * {@code gpt-decoder} catalogue bundle (sha256 computed) into a test directory.
 */
public final class GptBundles {

  public static final String TINY = "tiny-gpt2";
  private static final Path FIXTURE = Path.of("..", "models", "src", "test", "resources", "gpt", TINY);
  private static final List<String> FILES = List.of("model.onnx", "tokenizer.json", "config.json",
      "generation_config.json");

  private GptBundles() {}

  /** True when the built-in catalogue holds the default GPT model. */
  public static boolean defaultModelPresent() {
    String id = (String) NlpstreamConfig.CONFIG.defaultValues().get(NlpstreamConfig.GPT_MODEL);
    return ModelCatalog.open(Optional.empty()).ids().contains(id);
  }

  /**
   * Settings that select the model: none when the default model is present (and {@code preferTiny} is
   * false), else {@code model.catalog.dir} = a catalogue in {@code dir} holding the tiny fixture,
   * {@code gpt.model} = it, and max_new_tokens that fit its 256-token context.
   */
  public static Map<String, String> settings(Path dir, boolean preferTiny) {
    if (!preferTiny && defaultModelPresent()) {
      return Map.of();
    }
    Map<String, String> s = new HashMap<>();
    s.put(NlpstreamConfig.MODEL_CATALOG_DIR, writeTiny(dir).toString());
    s.put(NlpstreamConfig.GPT_MODEL, TINY);
    s.put(NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY, "24");
    s.put(NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY, "24");
    return s;
  }

  /** Writes the tiny fixture as catalogue bundle {@value #TINY} under {@code catalog}; returns {@code catalog}. */
  public static Path writeTiny(Path catalog) {
    try {
      Path bundle = Files.createDirectories(catalog.resolve(TINY));
      ObjectMapper json = new ObjectMapper();
      ObjectNode m = json.createObjectNode();
      m.put("id", TINY).put("version", "fixture").put("kind", "gpt-decoder").put("prompt_templates", "plain");
      for (String file : FILES) {
        byte[] bytes = Files.readAllBytes(FIXTURE.resolve(file));
        Files.write(bundle.resolve(file), bytes);
        String field = switch (file) {
          case "model.onnx" -> "model";
          case "tokenizer.json" -> "tokenizer";
          case "config.json" -> "config";
          default -> "generation_config";
        };
        m.putObject(field).put("file", file).put("sha256", sha256(bytes));
      }
      Files.writeString(bundle.resolve("model.json"), json.writeValueAsString(m));
      return catalog;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
