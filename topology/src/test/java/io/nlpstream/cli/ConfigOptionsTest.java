package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConfigOptionsTest {

  @TempDir
  Path tmp;

  @Test
  void precedenceIsCommandDefaultThenFileThenSetThenImposed() throws Exception {
    Path file = tmp.resolve("nlpstream.properties");
    Files.writeString(file, "batch.max.size=7\nbatch.max.tokens=1000\ntopic.input=from-file\n");
    ConfigOptions options = parse("--config", file.toString(), "--set", "batch.max.tokens=2000",
        "--set", "topic.input=from-set");

    NlpstreamConfig config = options.load(
        Map.of(NlpstreamConfig.BATCH_MAX_SIZE, "3", NlpstreamConfig.BATCH_MAX_WAIT_MS, "55"),
        Map.of(NlpstreamConfig.TOPIC_INPUT, "imposed"));

    assertThat(config.getLong(NlpstreamConfig.BATCH_MAX_WAIT_MS)).as("command default").isEqualTo(55L);
    assertThat(config.getInt(NlpstreamConfig.BATCH_MAX_SIZE)).as("file over command default").isEqualTo(7);
    assertThat(config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS)).as("--set over file").isEqualTo(2000);
    assertThat(config.getString(NlpstreamConfig.TOPIC_INPUT)).as("imposed over --set").isEqualTo("imposed");
    assertThat(config.getInt(NlpstreamConfig.TOPIC_PARTITIONS)).as("global default").isEqualTo(2);
  }

  @Test
  void launcherJavaOptionsAreNotAConfigurationKey() {
    Map<String, String> props = NlpstreamConfig.fromEnvironment(Map.of(
        "NLPSTREAM_JAVA_OPTS", "-Xmx2g", "NLPSTREAM_BATCH_MAX_SIZE", "5", "HOME", "/root"));
    assertThat(props).containsExactly(Map.entry("batch.max.size", "5"));
  }

  private static ConfigOptions parse(String... args) {
    Holder holder = new Holder();
    new CommandLine(holder).parseArgs(args);
    return holder.options;
  }

  @CommandLine.Command(name = "holder")
  static final class Holder {
    @CommandLine.Mixin
    ConfigOptions options;
  }
}
