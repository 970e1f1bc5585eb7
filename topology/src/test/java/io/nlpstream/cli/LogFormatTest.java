package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.testing.LogFormatProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped log4j2.xml in a fresh JVM (log4j reads it once per process): text by default, JSON
 * lines with {@code NLPSTREAM_LOG_FORMAT=json} or {@code -Dnlpstream.log.format=json}, the record
 * context in both, and {@code NLPSTREAM_LOG_LEVEL}.
 */
class LogFormatTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<String> run(Map<String, String> env, String... jvmOptions) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), LogFormatProbe.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("NLPSTREAM_LOG_FORMAT");
    pb.environment().remove("NLPSTREAM_LOG_LEVEL");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err).isZero();
    assertThat(out).as("logs go to stderr only").isEmpty();
    return err.lines().toList();
  }

  @Test
  void textByDefaultWithTheRecordContext() throws Exception {
    List<String> lines = run(Map.of());
    assertThat(lines.get(0)).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ERROR \\[main] probe: probe error line"
        + " \\{record_id=probe-1, topic=text.in}");
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("IllegalStateException: probe failure"));
    assertThat(lines).anySatisfy(l -> assertThat(l).endsWith("INFO  [main] probe: probe info line"));
  }

  @Test
  void jsonLinesFromTheEnvironmentOrASystemProperty() throws Exception {
    for (List<String> lines : List.of(run(Map.of("NLPSTREAM_LOG_FORMAT", "json")),
        run(Map.of(), "-Dnlpstream.log.format=json"))) {
      assertThat(lines).hasSize(2);
      JsonNode error = JSON.readTree(lines.get(0));
      assertThat(error.get("log.level").asText()).isEqualTo("ERROR");
      assertThat(error.get("message").asText()).isEqualTo("probe error line");
      assertThat(error.get("log.logger").asText()).isEqualTo("io.nlpstream.probe");
      assertThat(error.get("record_id").asText()).isEqualTo("probe-1");
      assertThat(error.get("topic").asText()).isEqualTo("text.in");
      assertThat(error.get("error.type").asText()).isEqualTo("java.lang.IllegalStateException");
      assertThat(error.get("error.stack_trace").asText()).contains("probe failure").contains("LogFormatProbe.main");
      assertThat(error.get("service.name").asText()).isEqualTo("nlpstream");
      assertThat(error.get("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      JsonNode info = JSON.readTree(lines.get(1));
      assertThat(info.get("log.level").asText()).isEqualTo("INFO");
      assertThat(info.has("record_id")).as("the context was cleared").isFalse();
    }
  }

  @Test
  void levelFromTheEnvironment() throws Exception {
    List<String> lines = run(Map.of("NLPSTREAM_LOG_LEVEL", "WARN"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("probe error line"));
    assertThat(lines).noneSatisfy(l -> assertThat(l).contains("probe info line"));
  }
}
