package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Exit codes and messages of the command line for what fails before any broker or model is touched. */
class NlpstreamCommandTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(String... args) {
    CommandLine cli = NlpstreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void runWithoutBootstrapServersNamesTheKey() {
    assertThat(execute("run")).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("configuration error").contains("bootstrap.servers");
  }

  @Test
  void unknownKeyIsRefusedByName() {
    assertThat(execute("run", "--set", "bootstrap.servers=127.0.0.1:1", "--set", "batch.max.sizes=3"))
        .isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("batch.max.sizes").contains("unknown configuration key");
  }

  @Test
  void invalidValueIsRefusedByName() {
    assertThat(execute("demo", "--set", "batch.max.size=0")).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("batch.max.size");
  }

  @Test
  void missingConfigFileIsRefusedByName() {
    assertThat(execute("run", "--config", "/nonexistent/nlpstream.properties")).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("/nonexistent/nlpstream.properties");
  }

  @Test
  void missingDemoInputFailsWithAClearMessage() {
    assertThat(execute("demo", "--input", "/nonexistent/input.jsonl")).isEqualTo(1);
    assertThat(err.toString()).contains("/nonexistent/input.jsonl").doesNotContain("\tat ");
  }

  @Test
  void soakRefusesBadOptionsAndServiceKeysBeforeStartingAnything() {
    assertThat(execute("soak", "--minutes", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--minutes");
    assertThat(execute("soak", "--set", "batch.max.sizes=3")).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("batch.max.sizes");
    assertThat(execute("soak", "--set", "kafka.sasl.jaas.config=secret-value")).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("kafka.sasl.jaas.config").doesNotContain("secret-value");
  }

  @Test
  void badUsageExitsTwo() {
    assertThat(execute("run", "--no-such-option")).isEqualTo(2);
    assertThat(execute("no-such-command")).isEqualTo(2);
  }

  @Test
  void configDocsPrintsTheTable() {
    assertThat(execute("config-docs")).isZero();
    assertThat(out.toString()).startsWith("| Key | Type |").contains("| `batch.max.tokens` |");
  }
}
