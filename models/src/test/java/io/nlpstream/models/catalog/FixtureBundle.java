package io.nlpstream.models.catalog;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Copies of the {@code test-minilm-heads} fixture bundle in a directory, edited per test. */
final class FixtureBundle {

  static final String ID = "test-minilm-heads";
  private static final String ROOT = "nlpstream/catalog/" + ID + "/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private FixtureBundle() {}

  static byte[] resource(String name) {
    try (InputStream in = FixtureBundle.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the fixture as {@code catalogDir/<id>/} with its manifest edited by {@code edit}; returns the bundle dir. */
  static Path write(Path catalogDir, String id, Consumer<ObjectNode> edit) throws IOException {
    Path dir = Files.createDirectories(catalogDir.resolve(id));
    Files.write(dir.resolve("heads.onnx"), resource(ROOT + "heads.onnx"));
    ObjectNode manifest = (ObjectNode) JSON.readTree(resource(ROOT + "model.json"));
    manifest.put("id", id);
    edit.accept(manifest);
    Files.write(dir.resolve("model.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
    return dir;
  }

  static String sha256(byte[] bytes) {
    return ModelCatalog.sha256(bytes);
  }
}
