package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.app.GptBundles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command-line contract other checks rely on, run in-process on the embedded broker with the
 * real models (the GPT stage: the default model when present, else the tiny GPT-2 fixture):
 * {@code demo} on the bundled sample, and {@code bench} (small) ending in its JSON line.
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
    List<String> all = new ArrayList<>(List.of(args));
    for (Map.Entry<String, String> e : GptBundles.settings(tmp.resolve("catalog"), false).entrySet()) {
      all.add("--set");
      all.add(e.getKey() + "=" + e.getValue());
    }
    all.add("--set");
    all.add("model.cache.dir=" + tmp.resolve("models"));
    return cli.execute(all.toArray(String[]::new));
  }

  @Test
  void demoAccountsForEverySampleLine() throws Exception {
    Path sample = Path.of("..", "samples", "demo-input.jsonl");
    int lines = InputLines.read(sample).size();

    int exit = execute("demo", "--input", sample.toString(), "--out", tmp.resolve("out").toString());

    assertThat(exit).as("demo exit code; stderr:\n%s", err).isZero();
    List<String> enriched = Files.readAllLines(tmp.resolve("out/text.enriched.jsonl"), StandardCharsets.UTF_8);
    List<String> dead = Files.readAllLines(tmp.resolve("out/text.dlq.jsonl"), StandardCharsets.UTF_8);
    List<String> requests = Files.readAllLines(tmp.resolve("out/text.gpt.requests.jsonl"), StandardCharsets.UTF_8);
    List<String> summaries = Files.readAllLines(tmp.resolve("out/text.summaries.jsonl"), StandardCharsets.UTF_8);
    List<String> replies = Files.readAllLines(tmp.resolve("out/text.replies.jsonl"), StandardCharsets.UTF_8);
    assertThat(enriched.size() + dead.size()).isEqualTo(lines);
    // The sample routes some records (task fields, negative chats, a long report): one answer each.
    assertThat(requests).isNotEmpty();
    assertThat(summaries.size() + replies.size()).isEqualTo(requests.size());
    Set<String> answered = new TreeSet<>();
    for (String g : summaries) {
      answered.add("summary/" + JSON.readTree(g).path("input_id").asText());
    }
    for (String g : replies) {
      answered.add("reply/" + JSON.readTree(g).path("input_id").asText());
    }
    Set<String> asked = new TreeSet<>();
    for (String r : requests) {
      JsonNode n = JSON.readTree(r);
      asked.add(n.path("kind").asText() + "/" + n.path("input_id").asText());
    }
    assertThat(answered).isEqualTo(asked);
    Set<String> reasons = new TreeSet<>();
    for (String d : dead) {
      reasons.add(JSON.readTree(d).path("reason").asText());
    }
    // The sample covers every reason that input alone can cause, except too_large by size.
    assertThat(reasons).containsExactlyInAnyOrder("not_json", "not_object", "missing_text", "empty_text",
        "wrong_type", "invalid_value", "invalid_utf8", "too_large");
    assertThat(out.toString())
        .contains("Sent " + lines + " records: " + enriched.size() + " enriched, " + dead.size() + " dead-lettered")
        .contains(requests.size() + " routed to the GPT stage: " + summaries.size() + " summaries, " + replies.size()
            + " replies, 0 dead-lettered")
        .contains("DLQ invalid_utf8");
  }

  @Test
  void benchEndsWithOneJsonLine() throws Exception {
    int exit = execute("bench", "--records", "40", "--warmup", "10", "--gpt-concurrency", "1,4",
        "--gpt-requests-per-client", "2", "--gpt-max-new-tokens", "8");

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
    for (String level : List.of("c1", "c4")) {
      for (String mode : List.of("one_at_a_time", "continuous")) {
        JsonNode run = result.path("gpt").path(level).path(mode);
        assertThat(run.path("tokens_per_s").asDouble()).as("gpt.%s.%s.tokens_per_s", level, mode).isPositive();
        assertThat(run.path("p99_ms").asDouble()).isGreaterThanOrEqualTo(run.path("p50_ms").asDouble());
      }
    }
    assertThat(result.path("gpt").path("c4").path("continuous").path("mean_batch").asDouble())
        .as("four concurrent requests share decode steps").isGreaterThan(1.0);
    assertThat(result.path("gpt").path("c4").path("one_at_a_time").path("mean_batch").asDouble()).isEqualTo(1.0);
  }
}
