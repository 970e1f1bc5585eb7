package io.nlpstream.models.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.OrtRuntime;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpt-decoder} bundles: the tiny GPT-2 fixture as a catalogue entry, from a directory and
 * packaged in a jar (extracted, sha256-verified, to the cache directory), and the start-up errors.
 */
class GeneratorBundleTest {

  private static final List<String> FILES = List.of("model.onnx", "tokenizer.json", "config.json",
      "generation_config.json");
  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));

  @TempDir
  Path dir;

  static Path fixture() {
    URL url = GeneratorBundleTest.class.getResource("/gpt/tiny-gpt2");
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the tiny GPT-2 fixture as bundle {@code id} under {@code catalog}, manifest edited by {@code edit}. */
  static Path writeBundle(Path catalog, String id, Consumer<ObjectNode> edit) throws IOException {
    Path bundle = Files.createDirectories(catalog.resolve(id));
    ObjectNode m = TinyBundles.JSON.createObjectNode();
    m.put("id", id).put("version", "1").put("kind", "gpt-decoder");
    for (String file : FILES) {
      byte[] bytes = Files.readAllBytes(fixture().resolve(file));
      Files.write(bundle.resolve(file), bytes);
      String field = switch (file) {
        case "model.onnx" -> "model";
        case "tokenizer.json" -> "tokenizer";
        case "config.json" -> "config";
        default -> "generation_config";
      };
      m.putObject(field).put("file", file).put("sha256", ModelCatalog.sha256(bytes));
    }
    m.put("prompt_templates", "plain").put("context_tokens", 200);
    edit.accept(m);
    Files.writeString(bundle.resolve("model.json"), TinyBundles.JSON.writeValueAsString(m));
    return bundle;
  }

  private static Generation generate(Generator generator) throws Exception {
    return generator.submit(new GenerationRequest("r1", GenerationKind.SUMMARY, "The stream processor reads events",
        DecodingParams.greedy(4))).get(60, TimeUnit.SECONDS);
  }

  @Test
  void aDirectoryBundleOpensWithItsIdVersionAndContext() throws Exception {
    writeBundle(dir, "tiny", m -> { });
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThat(catalog.manifest("tiny").promptTemplates()).isEqualTo("plain");
    try (Generator generator = catalog.openGenerator("tiny", RUNTIME, GeneratorOptions.defaults(), dir.resolve("cache"))) {
      assertThat(generator.modelId()).isEqualTo("tiny@1");
      assertThat(generator.contextLength()).isEqualTo(200);
      assertThat(generate(generator).generatedTokens()).isBetween(1, 4);
    }
    assertThat(dir.resolve("cache")).doesNotExist();
  }

  @Test
  void aCorruptDecoderFailsAtStartNamingTheFile() throws Exception {
    Path bundle = writeBundle(dir, "tiny", m -> { });
    byte[] onnx = Files.readAllBytes(bundle.resolve("model.onnx"));
    onnx[onnx.length / 2] ^= 1;
    Files.write(bundle.resolve("model.onnx"), onnx);
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.openGenerator("tiny", RUNTIME, GeneratorOptions.defaults(), dir.resolve("cache")))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(bundle.resolve("model.onnx").toString())
        .hasMessageContaining("sha256 mismatch");
  }

  @Test
  void aBundleInAJarIsExtractedVerifiedAndReused() throws Exception {
    Path source = writeBundle(dir.resolve("src"), "jarred", m -> { });
    Path jar = dir.resolve("models.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (String entry : List.of("nlpstream/", "nlpstream/catalog/", "nlpstream/catalog/jarred/")) {
        out.putNextEntry(new JarEntry(entry));
        out.closeEntry();
      }
      for (String file : List.of("model.json", "model.onnx", "tokenizer.json", "config.json", "generation_config.json")) {
        out.putNextEntry(new JarEntry("nlpstream/catalog/jarred/" + file));
        out.write(Files.readAllBytes(source.resolve(file)));
        out.closeEntry();
      }
    }
    Path cache = dir.resolve("cache");
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, previous)) {
      Thread.currentThread().setContextClassLoader(loader);
      ModelCatalog catalog = ModelCatalog.open(Optional.empty());
      assertThat(catalog.ids()).contains("jarred");
      try (Generator generator = catalog.openGenerator("jarred", RUNTIME, GeneratorOptions.defaults(), cache)) {
        assertThat(generator.modelId()).isEqualTo("jarred@1");
        assertThat(generate(generator).text()).isNotNull();
      }
      Path extracted;
      try (var dirs = Files.list(cache)) {
        extracted = dirs.findFirst().orElseThrow();
      }
      assertThat(extracted.getFileName().toString()).startsWith("jarred-1-");
      assertThat(extracted.resolve("model.onnx")).hasSameBinaryContentAs(source.resolve("model.onnx"));

      // A damaged cached copy is detected and replaced, not loaded.
      Files.writeString(extracted.resolve("tokenizer.json"), "{}");
      try (Generator generator = catalog.openGenerator("jarred", RUNTIME, GeneratorOptions.defaults(), cache)) {
        assertThat(generate(generator).generatedTokens()).isPositive();
      }
      assertThat(extracted.resolve("tokenizer.json")).hasSameBinaryContentAs(source.resolve("tokenizer.json"));
      try (var files = Files.list(extracted)) {
        assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
      }
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  @Test
  void kindsAreCheckedBothWays() throws Exception {
    writeBundle(dir, "tiny", m -> { });
    TinyBundles.copy(TinyBundles.FUSED, dir, "fused");
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.openGenerator("fused", RUNTIME, GeneratorOptions.defaults(), dir.resolve("c")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("needs kind gpt-decoder");
    assertThatThrownBy(() -> catalog.openBertAnalyzer("tiny", RUNTIME, 512))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("gpt-decoder serves []");
  }

  @Test
  void manifestErrorsNameTheField() throws Exception {
    writeBundle(dir, "renamed", m -> m.with("tokenizer").put("file", "vocab.json"));
    writeBundle(dir, "style", m -> m.put("prompt_templates", "jinja"));
    writeBundle(dir, "misplaced", m -> m.put("max_tokens", 64));
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.manifest("renamed")).hasMessageContaining("tokenizer.file must be tokenizer.json");
    assertThatThrownBy(() -> catalog.manifest("style")).hasMessageContaining("prompt_templates is 'jinja'");
    assertThatThrownBy(() -> catalog.manifest("misplaced")).hasMessageContaining("max_tokens");
  }
}
