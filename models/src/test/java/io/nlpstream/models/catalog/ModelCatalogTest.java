package io.nlpstream.models.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.OrtRuntime;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Catalogue lookup and every way a bundle can be wrong that is caught before a session is created. */
class ModelCatalogTest {

  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));

  @TempDir
  Path dir;

  @Test
  void findsClasspathBundlesAndReadsTheirManifest() {
    ModelCatalog catalog = ModelCatalog.open(Optional.empty());
    assertThat(catalog.ids()).contains(FixtureBundle.ID);
    ModelManifest m = catalog.manifest(FixtureBundle.ID);
    assertThat(m.encoder().maxTokens()).isEqualTo(256);
    assertThat(m.encoder().file()).isEqualTo("classpath:all-minilm-l6-v2.onnx");
    assertThat(m.labels().entities()).hasSize(9).startsWith("O");
    assertThat(m.versionedId()).isEqualTo("test-minilm-heads@0");
  }

  @Test
  void findsBundlesInsideJarsAsPackaged() throws Exception {
    Path jar = dir.resolve("models.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (String entry : List.of("nlpstream/", "nlpstream/catalog/", "nlpstream/catalog/jar-bundle/")) {
        out.putNextEntry(new JarEntry(entry));
        out.closeEntry();
      }
      out.putNextEntry(new JarEntry("nlpstream/catalog/jar-bundle/model.json"));
      out.write(FixtureBundle.resource("nlpstream/catalog/" + FixtureBundle.ID + "/model.json"));
      out.closeEntry();
    }
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, previous)) {
      Thread.currentThread().setContextClassLoader(loader);
      ModelCatalog catalog = ModelCatalog.open(Optional.empty());
      assertThat(catalog.ids()).contains("jar-bundle", FixtureBundle.ID);
      assertThat(catalog.manifest("jar-bundle").id()).isEqualTo(FixtureBundle.ID);
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  @Test
  void theExtraDirectoryComesFirst() throws Exception {
    FixtureBundle.write(dir, FixtureBundle.ID, m -> m.put("version", "from-extra-dir"));
    FixtureBundle.write(dir, "other-bundle", m -> { });
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThat(catalog.manifest(FixtureBundle.ID).version()).isEqualTo("from-extra-dir");
    assertThat(catalog.ids()).contains(FixtureBundle.ID, "other-bundle");
  }

  @Test
  void aMissingExtraDirectoryFailsAtOpen() {
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(missing)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void anUnknownIdListsTheKnownIds() throws Exception {
    FixtureBundle.write(dir, "in-extra-dir", m -> { });
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.openBertAnalyzer("minilm-hedas", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("minilm-hedas: unknown model id")
        .hasMessageContaining(FixtureBundle.ID)
        .hasMessageContaining("in-extra-dir");
    assertThatThrownBy(() -> catalog.manifest("../etc")).hasMessageContaining("not a valid model id");
  }

  @Test
  void malformedJsonNamesTheFileAndPosition() throws Exception {
    Path bundle = Files.createDirectories(dir.resolve("broken"));
    Files.writeString(bundle.resolve("model.json"), "{\n  \"id\": \"broken\",\n  \"version\": \n}");
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.manifest("broken"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("model.json") + ": malformed model.json")
        .hasMessageContaining("line 4");
  }

  @Test
  void aMissingFieldIsNamed() throws Exception {
    FixtureBundle.write(dir, "no-sha", m -> ((ObjectNode) m.get("heads")).remove("sha256"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("no-sha"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("no-sha/model.json: required field heads.sha256 is missing");
  }

  @Test
  void anIllTypedFieldIsNamed() throws Exception {
    FixtureBundle.write(dir, "bad-type", m -> ((ObjectNode) m.get("encoder")).put("max_tokens", "many"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("bad-type"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("bad-type/model.json: invalid model.json at field encoder.max_tokens");
  }

  @Test
  void aMalformedHashIsNamed() throws Exception {
    FixtureBundle.write(dir, "bad-hash", m -> ((ObjectNode) m.get("heads")).put("sha256", "ABC"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("bad-hash"))
        .hasMessageContaining("field heads.sha256 must be 64 lower-case hex digits");
  }

  @Test
  void labelsOutsideTheContractAreRejectedNamingTheManifest() throws Exception {
    FixtureBundle.write(dir, "bad-labels", m -> ((ObjectNode) m.get("labels")).putArray("sentiment").add("good").add("bad"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("bad-labels", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("bad-labels/model.json: field labels: sentiment label 'good'");
  }

  @Test
  void aChecksumMismatchNamesTheFileAndBothHashes() throws Exception {
    Path bundle = FixtureBundle.write(dir, "tampered", m -> { });
    byte[] heads = Files.readAllBytes(bundle.resolve("heads.onnx"));
    String expected = FixtureBundle.sha256(heads);
    heads[heads.length - 1] ^= 1;
    Files.write(bundle.resolve("heads.onnx"), heads);
    String actual = FixtureBundle.sha256(heads);
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("tampered", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("heads.onnx") + ": sha256 mismatch")
        .hasMessageContaining("expects " + expected)
        .hasMessageContaining("file has " + actual);
  }

  @Test
  void aChecksumMismatchOfAClasspathFileIsNamedToo() throws Exception {
    String zeros = "0".repeat(64);
    FixtureBundle.write(dir, "wrong-tokenizer-sha", m -> ((ObjectNode) m.get("encoder")).put("tokenizer_sha256", zeros));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("wrong-tokenizer-sha", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("classpath:all-minilm-l6-v2-tokenizer.json: sha256 mismatch")
        .hasMessageContaining("expects " + zeros);
  }

  @Test
  void aMissingFileIsNamed() throws Exception {
    Path bundle = FixtureBundle.write(dir, "no-heads", m -> { });
    Files.delete(bundle.resolve("heads.onnx"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("no-heads", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("heads.onnx") + ": the file of field heads.file does not exist");
  }

  @Test
  void aMissingClasspathFileIsNamed() throws Exception {
    FixtureBundle.write(dir, "no-encoder", m -> ((ObjectNode) m.get("encoder")).put("file", "classpath:nope.onnx"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("no-encoder", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("classpath:nope.onnx: file of field encoder.file")
        .hasMessageContaining("not on the classpath");
  }

  @Test
  void filesOutsideTheBundleAreRefused() throws Exception {
    Files.writeString(dir.resolve("secret.onnx"), "x", StandardCharsets.UTF_8);
    FixtureBundle.write(dir, "escape", m -> ((ObjectNode) m.get("heads")).put("file", "../secret.onnx"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("escape", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("must be a relative path inside the bundle");
  }

  @Test
  void aFusedModelNextToAnEncoderIsRefusedClearly() throws Exception {
    FixtureBundle.write(dir, "fused", m -> {
      ObjectNode heads = (ObjectNode) m.remove("heads");
      m.set("model", heads);
    });
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("fused", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("fused/model.json: field encoder does not belong here: the fused form (model) takes"
            + " top-level tokenizer and max_tokens");
  }

  @Test
  void anUnknownKindListsTheKnownOnes() throws Exception {
    FixtureBundle.write(dir, "onnx-ner", m -> m.put("kind", "token-classification"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("onnx-ner"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("field kind is 'token-classification', this runtime runs one of [bert-multihead,"
            + " hf-sequence-classification, hf-token-classification, gpt-decoder]");
  }
}
