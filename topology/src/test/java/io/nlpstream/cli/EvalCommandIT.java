package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code nlpstream eval} on the real default models: the JSON contract of its last line. */
class EvalCommandIT {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(String... args) {
    CommandLine cli = NlpstreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private JsonNode lastLine() throws Exception {
    List<String> lines = out.toString().lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  @Test
  void sentimentOnBinaryDataPrintsAccuracyAndMacroScores() throws Exception {
    int exit = execute("eval", "--task", "sentiment", "--data", "src/test/resources/eval/polar.tsv");

    assertThat(exit).as("stderr:\n%s", err).isZero();
    JsonNode json = lastLine();
    assertThat(json.path("n").asInt()).isEqualTo(12);
    assertThat(json.path("labels").asText()).startsWith("binary");
    // Twelve unambiguous review phrases: chance is 0.5, the default heads score 81% on SST-2 dev.
    assertThat(json.path("accuracy").asDouble()).isGreaterThanOrEqualTo(0.75);
    assertThat(json.path("macro_f1").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.path("macro_recall").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void nerOnConllDataPrintsEntityLevelScores() throws Exception {
    int exit = execute("eval", "--task", "ner", "--data", "src/test/resources/eval/sample.conll");

    assertThat(exit).as("stderr:\n%s", err).isZero();
    JsonNode json = lastLine();
    assertThat(json.path("n").asInt()).isEqualTo(2);
    assertThat(json.path("by_type").has("PER")).isTrue();
    assertThat(json.path("f1").asDouble()).isGreaterThan(0.5);
    assertThat(json.path("precision").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void aMissingFileIsAUsageError() {
    int exit = execute("eval", "--task", "topic", "--data", "does/not/exist.csv");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("does/not/exist.csv");
  }
}
