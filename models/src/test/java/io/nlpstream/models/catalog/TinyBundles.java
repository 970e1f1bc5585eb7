package io.nlpstream.models.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The tiny fixture bundles written by {@code models/src/test/python/make_fixture_hf.py}: copies of
 * them edited per test (with their model.json sha256 fields recomputed), their reference.json, and
 * comparisons of analyses.
 */
final class TinyBundles {

  static final String FUSED = "test-fused";
  static final String FUSED_CASED = "test-fused-cased";
  static final String HF_SENTIMENT = "test-hf-sentiment";
  static final String HF_NER = "test-hf-ner";

  static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> FILES = List.of("model.json", "model.onnx", "tokenizer.json", "config.json");

  private TinyBundles() {}

  static byte[] resource(String name) {
    try (InputStream in = TinyBundles.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean exists(String name) {
    return TinyBundles.class.getClassLoader().getResource(name) != null;
  }

  /** Copies bundle {@code id} to {@code catalogDir/newId} and returns the new bundle directory. */
  static Path copy(String id, Path catalogDir, String newId) throws IOException {
    Path dir = Files.createDirectories(catalogDir.resolve(newId));
    for (String file : FILES) {
      String name = "nlpstream/catalog/" + id + "/" + file;
      if (exists(name)) {
        Files.write(dir.resolve(file), resource(name));
      }
    }
    editJson(dir, "model.json", m -> m.put("id", newId));
    return dir;
  }

  /** Rewrites a JSON file of the bundle, then the sha256 fields of model.json. */
  static void editJson(Path dir, String file, Consumer<ObjectNode> edit) throws IOException {
    ObjectNode node = (ObjectNode) JSON.readTree(dir.resolve(file).toFile());
    edit.accept(node);
    Files.write(dir.resolve(file), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
    rehash(dir);
  }

  /** Replaces a file of the bundle, then the sha256 fields of model.json. */
  static void replace(Path dir, String file, byte[] bytes) throws IOException {
    Files.write(dir.resolve(file), bytes);
    rehash(dir);
  }

  /** Sets the sha256 of model.json's model, tokenizer and config sections to the files' real ones. */
  static void rehash(Path dir) throws IOException {
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("model.json").toFile());
    for (String field : List.of("model", "tokenizer", "config")) {
      JsonNode ref = manifest.get(field);
      if (ref instanceof ObjectNode o && o.has("file") && !o.get("file").asText().startsWith("classpath:")) {
        Path file = dir.resolve(o.get("file").asText());
        if (Files.exists(file)) {
          o.put("sha256", ModelCatalog.sha256(Files.readAllBytes(file)));
        }
      }
    }
    Files.write(dir.resolve("model.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
  }

  /** The bundle's reference.json: one object per sentence. */
  static List<JsonNode> reference(String id) {
    try {
      List<JsonNode> out = new ArrayList<>();
      JSON.readTree(resource("nlpstream/catalog/" + id + "/reference.json")).forEach(out::add);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<String> texts(List<JsonNode> reference) {
    return reference.stream().map(r -> r.get("text").asText()).toList();
  }

  /** Entities as comparable [text, type, start, end] lists. */
  static List<List<Object>> spans(List<Entity> entities) {
    return entities.stream().map(e -> List.<Object>of(e.text(), e.type(), e.start(), e.end())).toList();
  }

  static List<List<Object>> referenceSpans(JsonNode reference) {
    List<List<Object>> out = new ArrayList<>();
    reference.get("entities").forEach(e -> out.add(List.of(e.get("text").asText(), e.get("type").asText(),
        e.get("start").asInt(), e.get("end").asInt())));
    return out;
  }

  /** Every entity's text is its span of {@code text}, in order, of a contract type. */
  static void assertEntitiesWellFormed(String text, List<Entity> entities) {
    int previousEnd = 0;
    for (Entity e : entities) {
      assertThat(text.substring(e.start(), e.end())).isEqualTo(e.text());
      assertThat(e.type()).isIn("PER", "ORG", "LOC", "MISC");
      assertThat(e.score()).isBetween(0.0, 1.0);
      assertThat(e.start()).isGreaterThanOrEqualTo(previousEnd);
      previousEnd = e.end();
    }
  }

  /** Same labels, offsets and truncation; scores within float rounding. */
  static void assertSameAnalysis(Analysis a, Analysis b) {
    assertThat(a.sentiment().label()).isEqualTo(b.sentiment().label());
    assertThat(a.sentiment().score()).isCloseTo(b.sentiment().score(), within(1e-4));
    assertThat(a.classes()).extracting(ClassScore::label)
        .isEqualTo(b.classes().stream().map(ClassScore::label).toList());
    for (int k = 0; k < a.classes().size(); k++) {
      assertThat(a.classes().get(k).score()).isCloseTo(b.classes().get(k).score(), within(1e-4));
    }
    assertThat(a.truncated()).isEqualTo(b.truncated());
    assertThat(a.tokens()).isEqualTo(b.tokens());
    assertThat(spans(a.entities())).isEqualTo(spans(b.entities()));
    for (int k = 0; k < a.entities().size(); k++) {
      assertThat(a.entities().get(k).score()).isCloseTo(b.entities().get(k).score(), within(1e-4));
    }
  }

  /** A long text of the fixture vocabulary: far more tokens than the fixtures' 40-token window. */
  static String longText() {
    List<String> sentences = texts(reference(FUSED));
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      sb.append(sentences.get(i % sentences.size())).append(' ').append(sentences.get((i * 5 + 2) % sentences.size()))
          .append('\n');
    }
    return sb.toString();
  }
}
