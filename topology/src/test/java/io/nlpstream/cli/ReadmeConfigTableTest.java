package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The configuration table in README.md is the one generated from {@link NlpstreamConfig#CONFIG}. */
class ReadmeConfigTableTest {

  @Test
  void readmeTableMatchesTheConfigDefinitions() throws IOException {
    Path readme = Path.of("..", "README.md");
    String table = ConfigDocsCommand.tableIn(Files.readString(readme, StandardCharsets.UTF_8));
    assertThat(table).as("README.md has the config-table markers").isNotNull();

    String expected = ConfigReference.markdown(NlpstreamConfig.CONFIG);
    assertThat(table)
        .as("README.md configuration table is out of date: replace the lines between the config-table markers"
            + " with the output of ./nlpstream config-docs (or run ./nlpstream config-docs --update README.md)")
        .isEqualTo(expected);
  }

  @Test
  void generatedTableHasOneRowPerKeyWithEscapedCells() {
    String table = ConfigReference.markdown(NlpstreamConfig.CONFIG);
    String[] lines = table.split("\n");
    assertThat(lines).hasSize(NlpstreamConfig.CONFIG.names().size() + 2);
    for (String key : NlpstreamConfig.CONFIG.names()) {
      assertThat(table).contains("| `" + key + "` |");
    }
    // Every row has exactly the header's 5 columns: pipes inside descriptions are escaped.
    for (String line : lines) {
      assertThat(line.replace("\\|", "").chars().filter(c -> c == '|').count()).as(line).isEqualTo(6);
    }
    assertThat(table).contains("${java.io.tmpdir}/nlpstream-state").doesNotContain(System.getProperty("java.io.tmpdir") + "/nlpstream-state");
  }
}
