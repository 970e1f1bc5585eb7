package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What the command line prints never holds a secret, and secrets are not taken from its arguments. */
class SecretsOnTheCommandLineTest {

  private static final String SECRET = "pl41n-Secret-Pw";
  private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required"
      + " username=\"nlp\" password=\"" + SECRET + "\";";

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(String... args) {
    CommandLine cli = NlpstreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void aSecretValueGivenWithSetIsRefusedWithoutEchoingIt() {
    for (String command : new String[] {"run", "demo", "bench"}) {
      assertThat(execute(command, "--set", "bootstrap.servers=127.0.0.1:1", "--set", "kafka.sasl.jaas.config=" + JAAS))
          .as(command).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    }
    assertThat(execute("run", "--set", "kafka.ssl.truststore.password=" + SECRET)).isEqualTo(NlpstreamCommand.EXIT_CONFIG);
    assertThat(err.toString()).contains("kafka.sasl.jaas.config").contains("NLPSTREAM_KAFKA_SASL_JAAS_CONFIG")
        .contains("kafka.ssl.truststore.password");
    assertThat(out.toString() + err.toString()).doesNotContain(SECRET);
  }

  @Test
  void aConfigProviderReferenceIsAcceptedOnTheCommandLine() {
    ConfigOptions.checkNoSecretValues(Map.of(
        "kafka.sasl.jaas.config", "${file:/etc/nlpstream/secrets.properties:sasl.jaas.config}",
        "kafka.ssl.truststore.password", "${env:TRUSTSTORE_PASSWORD}"));
    assertThatThrownBy(() -> ConfigOptions.checkNoSecretValues(Map.of("kafka.ssl.key.password", "${notareference")))
        .isInstanceOf(ConfigException.class).hasMessageNotContaining("notareference");
  }

  @Test
  void helpAndConfigDocsNeverShowSecrets() {
    assertThat(execute("run", "--help")).isZero();
    assertThat(execute("demo", "--help")).isZero();
    assertThat(execute("config-docs")).isZero();
    assertThat(execute("config-docs", "--metrics")).isZero();
    assertThat(out.toString()).contains("--set").contains("Secrets")
        .contains("metrics.bind.address").contains("nlpstream_records_in_total")
        .doesNotContain(SECRET);
  }

  @Test
  void unknownLogFormatsAndLevelsAreRefusedByName() {
    ConfigOptions.checkLogging(Map.of("NLPSTREAM_LOG_FORMAT", "json", "NLPSTREAM_LOG_LEVEL", "debug"), "text");
    assertThatThrownBy(() -> ConfigOptions.checkLogging(Map.of("NLPSTREAM_LOG_FORMAT", "xml"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NLPSTREAM_LOG_FORMAT");
    assertThatThrownBy(() -> ConfigOptions.checkLogging(Map.of(), "yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("nlpstream.log.format");
    assertThatThrownBy(() -> ConfigOptions.checkLogging(Map.of("NLPSTREAM_LOG_LEVEL", "LOUD"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NLPSTREAM_LOG_LEVEL");
  }
}
