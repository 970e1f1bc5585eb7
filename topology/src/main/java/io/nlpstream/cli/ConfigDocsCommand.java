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
 * Prints the configuration reference (the table in README 'Configuration') as Markdown, or rewrites
 * that table in a README in place.
 */
@Command(name = "config-docs", mixinStandardHelpOptions = true,
    description = "Prints every configuration key (type, default, valid values, description) as a Markdown table.")
final class ConfigDocsCommand implements Callable<Integer> {

  static final String BEGIN = "<!-- config-table:begin";
  static final String END = "<!-- config-table:end -->";

  @Spec
  CommandSpec spec;

  @Option(names = "--update", paramLabel = "README",
      description = "Rewrites the table between the config-table markers of this file instead of printing it.")
  Path readme;

  @Override
  public Integer call() throws IOException {
    String table = ConfigReference.markdown(NlpstreamConfig.CONFIG);
    if (readme == null) {
      spec.commandLine().getOut().print(table);
      spec.commandLine().getOut().flush();
      return 0;
    }
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new CommandFailure(readme + " has no '" + BEGIN + " ... -->' and '" + END + "' markers");
    }
    int tableStart = text.indexOf('\n', begin) + 1;
    Files.writeString(readme, text.substring(0, tableStart) + table + text.substring(end), StandardCharsets.UTF_8);
    spec.commandLine().getErr().println("updated the configuration table in " + readme);
    return 0;
  }

  /** The table currently between the markers of {@code text}, or null without markers. */
  static String tableIn(String text) {
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    return begin < 0 || end < begin ? null : text.substring(text.indexOf('\n', begin) + 1, end);
  }
}
