package io.nlpstream.models.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The catalogue the repository ships ({@code models/catalog}): its total size stays under the 60 MB
 * the project allows, and every bundle has a model card that names the sha256 of each file its
 * manifest pins, so a retrained file cannot land without its card.
 */
class CatalogueFilesTest {

  private static final Path CATALOGUE = Path.of("catalog");
  private static final long MAX_BYTES = 60_000_000L;

  @Test
  void staysUnderSixtyMegabytes() throws IOException {
    long bytes;
    try (Stream<Path> files = Files.walk(CATALOGUE)) {
      bytes = files.filter(Files::isRegularFile).mapToLong(CatalogueFilesTest::size).sum();
    }
    assertThat(bytes).as("bytes under %s", CATALOGUE.toAbsolutePath()).isPositive().isLessThan(MAX_BYTES);
  }

  @Test
  void everyBundleHasACardNamingItsPinnedFiles() throws IOException {
    List<Path> bundles;
    try (Stream<Path> dirs = Files.list(CATALOGUE)) {
      bundles = dirs.filter(Files::isDirectory).sorted().toList();
    }
    assertThat(bundles).isNotEmpty();
    ObjectMapper json = new ObjectMapper();
    for (Path bundle : bundles) {
      Path card = bundle.resolve("MODEL_CARD.md");
      assertThat(card).as("model card of %s", bundle).isRegularFile();
      String text = Files.readString(card, StandardCharsets.UTF_8);
      JsonNode manifest = json.readTree(bundle.resolve("model.json").toFile());
      List<JsonNode> pinned = manifest.findValues("sha256");
      assertThat(pinned).as("sha256 values in %s/model.json", bundle).isNotEmpty();
      for (JsonNode sha : pinned) {
        assertThat(text).as("%s names the sha256 its model.json pins", card).contains(sha.asText());
      }
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the size of " + file, e);
    }
  }
}
