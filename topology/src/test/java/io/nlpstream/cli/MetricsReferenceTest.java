package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nlpstream.topology.DeadLetterReason;
import io.nlpstream.topology.PipelineCounters;
import io.nlpstream.topology.PipelineCounters.MeterDoc;
import io.nlpstream.topology.Stage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's metrics table is generated from the catalogue, and the catalogue names what /metrics serves. */
class MetricsReferenceTest {

  @Test
  void everyDocumentedMetricIsServedUnderItsDocumentedNameAndType() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PipelineCounters c = new PipelineCounters(registry, "gpt");
    c.recordIn();
    c.recordOut("generated");
    c.deadLetter(DeadLetterReason.TOO_LARGE, Stage.PARSE);
    c.batch(2, 20, 30, 1_000_000);
    c.forwarded(2_000_000);
    c.generatedTokens(3);
    c.trackBuffered(() -> 1);
    c.trackQueued(() -> 1);
    c.trackRunning(() -> 1);
    c.modelInfo(Map.of("generator", "tiny-gpt@1"));

    String scrape = registry.scrape();
    String table = MetricsReference.markdown();
    for (MeterDoc doc : PipelineCounters.METERS) {
      String name = MetricsReference.prometheusName(doc);
      String type = switch (doc.type()) {
        case COUNTER -> "counter";
        case GAUGE -> "gauge";
        default -> "histogram";
      };
      assertThat(scrape).as(doc.name()).contains("# TYPE " + name + " " + type + "\n");
      assertThat(table).contains("| `" + name + "` | " + type + " |");
    }
  }

  @Test
  void readmeMetricsTableMatchesTheCatalogue() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    String table = ConfigDocsCommand.tableIn(readme, ConfigDocsCommand.METRICS_BEGIN, ConfigDocsCommand.METRICS_END);
    assertThat(table).as("README.md has the metrics-table markers").isNotNull();
    assertThat(table).as("README.md metrics table is out of date: run ./nlpstream config-docs --update README.md")
        .isEqualTo(MetricsReference.markdown());
  }
}
