package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.app.GptBundles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nlpstream eval --task summary|reply} through a real decoder (the tiny GPT-2 fixture, so that
 * the figures are not the point; the JSON contract and the baselines are).
 */
class EvalGenerationIT {

  private static final Path EVAL = Path.of("..", "models", "src", "test", "resources", "eval");

  @TempDir
  Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(List<String> args) {
    CommandLine cli = NlpstreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(args);
    for (Map.Entry<String, String> e : GptBundles.settings(tmp.resolve("catalog"), true).entrySet()) {
      all.add("--set");
      all.add(e.getKey() + "=" + e.getValue());
    }
    all.add("--set");
    all.add("inference.intra.op.threads=1");
    return cli.execute(all.toArray(String[]::new));
  }

  private JsonNode lastLine() throws Exception {
    List<String> lines = out.toString().lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  private static void assertRouge(JsonNode n) {
    for (String k : List.of("rouge1", "rouge2", "rougeL")) {
      assertThat(n.path(k).isNumber()).as(k).isTrue();
      assertThat(n.path(k).asDouble()).as(k).isBetween(0.0, 1.0);
    }
  }

  @Test
  void summaryPrintsRougeSpeedAndTheLeadBaseline() throws Exception {
    int exit = execute(List.of("eval", "--task", "summary", "--data", EVAL.resolve("sample_samsum.csv").toString()));

    assertThat(exit).as("stderr:\n%s", err).isZero();
    JsonNode json = lastLine();
    assertThat(json.path("n").asInt()).isPositive();
    assertRouge(json);
    assertThat(json.path("tokens_per_s").asDouble()).isPositive();
    assertThat(json.path("model").asText()).isEqualTo("tiny-gpt2@fixture");
    assertRouge(json.path("baseline"));
    assertThat(json.path("baseline").path("rouge1").asDouble()).as("the lead shares words with the references")
        .isPositive();
    assertThat(json.path("baseline").path("rule").asText()).startsWith("lead");
  }

  @Test
  void replyPrintsRougeAndTheMostFrequentTrainingReply() throws Exception {
    Path dialogues = EVAL.resolve("dialogues_sample.txt");
    int exit = execute(List.of("eval", "--task", "reply", "--data", dialogues.toString(), "--train",
        dialogues.toString(), "--limit", "2"));

    assertThat(exit).as("stderr:\n%s", err).isZero();
    JsonNode json = lastLine();
    assertThat(json.path("n").asInt()).as("--limit 2 of the 3 reply pairs").isEqualTo(2);
    assertRouge(json);
    assertRouge(json.path("baseline"));
    assertThat(json.path("baseline").path("rule").asText()).contains("most frequent reply");
  }

  @Test
  void replyWithoutTrainingDialoguesIsAUsageError() {
    int exit = execute(List.of("eval", "--task", "reply", "--data", EVAL.resolve("dialogues_sample.txt").toString()));

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("dialogues_train.txt").contains("--train");
  }
}
