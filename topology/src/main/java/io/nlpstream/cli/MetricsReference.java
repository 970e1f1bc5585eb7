package io.nlpstream.cli;

import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import io.nlpstream.topology.PipelineCounters;
import io.nlpstream.topology.PipelineCounters.MeterDoc;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pipeline meters ({@link PipelineCounters#METERS}) as a Markdown table of their Prometheus
 * names, as {@code /metrics} serves them, so that the README cannot drift from the code (a unit test
 * compares the table with the README and the catalogue with a real registry's scrape).
 */
public final class MetricsReference {

  private static final PrometheusNamingConvention NAMING = new PrometheusNamingConvention();

  private MetricsReference() {}

  /** The Prometheus series family of a meter: its name as rendered by Micrometer's Prometheus registry. */
  public static String prometheusName(MeterDoc meter) {
    String name = NAMING.name(meter.name(), meter.type(), meter.baseUnit());
    // The Prometheus client, not the naming convention, adds the counter suffix.
    return meter.type() == Meter.Type.COUNTER && !name.endsWith("_total") ? name + "_total" : name;
  }

  /** One row per meter: Prometheus name, type, labels, description. */
  public static String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("| Metric | Type | Labels | Description |\n");
    sb.append("|---|---|---|---|\n");
    for (MeterDoc m : PipelineCounters.METERS) {
      List<String> labels = new ArrayList<>(m.tags());
      labels.add("application");
      sb.append("| `").append(prometheusName(m)).append("` | ").append(type(m.type())).append(" | ")
          .append(String.join(", ", labels.stream().map(l -> "`" + l + "`").toList())).append(" | ")
          .append(m.description().replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }

  private static String type(Meter.Type type) {
    return switch (type) {
      case COUNTER -> "counter";
      case GAUGE -> "gauge";
      case TIMER, DISTRIBUTION_SUMMARY -> "histogram";
      default -> type.name().toLowerCase(Locale.ROOT);
    };
  }
}
