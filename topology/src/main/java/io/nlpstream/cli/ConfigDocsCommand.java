package io.nlpstream.cli;

import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Prints the configuration reference (the table in README 'Configuration') or the metrics reference
 * (README 'Operations') as Markdown, or rewrites both tables in a README in place.
 */
@Command(name = "config-docs", mixinStandardHelpOptions = true,
    description = "Prints every configuration key (type, default, valid values, description) as a Markdown table;"
        + " with --metrics, every pipeline metric.")
final class ConfigDocsCommand implements Callable<Integer> {

  static final String BEGIN = "<!-- config-table:begin";
  static final String END = "<!-- config-table:end -->";
  static final String METRICS_BEGIN = "<!-- metrics-table:begin";
  static final String METRICS_END = "<!-- metrics-table:end -->";

  @Spec
  CommandSpec spec;

  @Option(names = "--update", paramLabel = "README",
      description = "Rewrites the table between the config-table markers of this file instead of printing it.")
  Path readme;

  @Option(names = "--metrics", description = "Prints the metrics the pipeline stages serve on /metrics instead.")
  boolean metrics;

  @Override
  public Integer call() throws IOException {
    String table = ConfigReference.markdown(NlpstreamConfig.CONFIG);
    String metricsTable = MetricsReference.markdown();
    if (readme == null) {
      spec.commandLine().getOut().print(metrics ? metricsTable : table);
      spec.commandLine().getOut().flush();
      return 0;
    }
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    text = replace(text, BEGIN, END, table);
    text = replace(text, METRICS_BEGIN, METRICS_END, metricsTable);
    Files.writeString(readme, text, StandardCharsets.UTF_8);
    spec.commandLine().getErr().println("updated the configuration and metrics tables in " + readme);
    return 0;
  }

  private String replace(String text, String beginMarker, String endMarker, String table) {
    int begin = text.indexOf(beginMarker);
    int end = text.indexOf(endMarker);
    if (begin < 0 || end < begin) {
      throw new CommandFailure(readme + " has no '" + beginMarker + " ... -->' and '" + endMarker + "' markers");
    }
    int tableStart = text.indexOf('\n', begin) + 1;
    return text.substring(0, tableStart) + table + text.substring(end);
  }

  /** The configuration table currently between the markers of {@code text}, or null without markers. */
  static String tableIn(String text) {
    return tableIn(text, BEGIN, END);
  }

  /** The table between {@code beginMarker} and {@code endMarker} in {@code text}, or null without markers. */
  static String tableIn(String text, String beginMarker, String endMarker) {
    int begin = text.indexOf(beginMarker);
    int end = text.indexOf(endMarker);
    return begin < 0 || end < begin ? null : text.substring(text.indexOf('\n', begin) + 1, end);
  }
}
