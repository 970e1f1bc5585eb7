package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command-line contract other checks rely on, run in-process on the embedded broker with the
 * real models: {@code demo} on the bundled sample, and {@code bench} (small) ending in its JSON line.
 */
class CommandLineIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(String... args) {
    CommandLine cli = NlpstreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void demoAccountsForEverySampleLine() throws Exception {
    Path sample = Path.of("..", "samples", "demo-input.jsonl");
    int lines = InputLines.read(sample).size();

    int exit = execute("demo", "--input", sample.toString(), "--out", tmp.resolve("out").toString());

    assertThat(exit).as("demo exit code; stderr:\n%s", err).isZero();
    List<String> enriched = Files.readAllLines(tmp.resolve("out/text.enriched.jsonl"), StandardCharsets.UTF_8);
    List<String> dead = Files.readAllLines(tmp.resolve("out/text.dlq.jsonl"), StandardCharsets.UTF_8);
    assertThat(tmp.resolve("out/text.gpt.requests.jsonl")).exists();
    assertThat(enriched.size() + dead.size()).isEqualTo(lines);
    Set<String> reasons = new TreeSet<>();
    for (String d : dead) {
      reasons.add(JSON.readTree(d).path("reason").asText());
    }
    // The sample covers every reason that input alone can cause, except too_large by size.
    assertThat(reasons).containsExactlyInAnyOrder("not_json", "not_object", "missing_text", "empty_text",
        "wrong_type", "invalid_value", "invalid_utf8", "too_large");
    assertThat(out.toString())
        .contains("Sent " + lines + " records: " + enriched.size() + " enriched, " + dead.size() + " dead-lettered")
        .contains("DLQ invalid_utf8");
  }

  @Test
  void benchEndsWithOneJsonLine() throws Exception {
    int exit = execute("bench", "--records", "40", "--warmup", "10");

    assertThat(exit).as("bench exit code; stderr:\n%s", err).isZero();
    String[] lines = out.toString().strip().split("\n");
    JsonNode result = JSON.readTree(lines[lines.length - 1]);
    for (String mode : List.of("single", "batched")) {
      for (String field : List.of("records_per_s", "p50_ms", "p99_ms")) {
        assertThat(result.path(mode).path(field).asDouble()).as("%s.%s", mode, field).isPositive();
      }
      assertThat(result.path(mode).path("p99_ms").asDouble()).isGreaterThanOrEqualTo(result.path(mode).path("p50_ms").asDouble());
    }
    assertThat(result.path("raw_encoder_records_per_s").asDouble()).isPositive();
    assertThat(result.path("ratios").path("batched_vs_single_throughput").isNumber()).isTrue();
    assertThat(result.path("setup").path("records").asInt()).isEqualTo(40);
  }
}
