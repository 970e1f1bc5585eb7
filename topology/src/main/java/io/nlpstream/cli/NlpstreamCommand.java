package io.nlpstream.cli;

import io.nlpstream.models.runtime.ModelLoadException;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nlpstream} command line (main class of {@code nlpstream.jar}). Exit codes: 0 success,
 * 1 failure at run time, 2 bad usage or configuration (the message names the option, key or file).
 */
@Command(name = "nlpstream", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Streaming NLP on Apache Kafka: BERT enrichment (sentiment, entities, classes) inside Kafka Streams.",
    subcommands = {DemoCommand.class, RunCommand.class, BenchCommand.class, EvalCommand.class, ConfigDocsCommand.class,
        SoakCommand.class,
        CommandLine.HelpCommand.class})
public final class NlpstreamCommand {

  /** Exit code of bad usage or configuration. */
  public static final int EXIT_CONFIG = 2;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured picocli command line (also used by tests). */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new NlpstreamCommand());
    cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
      if (e instanceof ConfigException || e instanceof ModelLoadException) {
        // Start-up problems the user can fix: the message names the key or file; no stack trace.
        cmd.getErr().println("nlpstream " + cmd.getCommandName() + ": configuration error: " + e.getMessage());
        return EXIT_CONFIG;
      }
      cmd.getErr().println("nlpstream " + cmd.getCommandName() + ": " + describe(e));
      if (!(e instanceof CommandFailure)) {
        e.printStackTrace(cmd.getErr());
      }
      return 1;
    });
    return cli;
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    int depth = 0;
    for (Throwable c = e.getCause(); c != null && depth < 5; c = c.getCause(), depth++) {
      sb.append("\n  caused by: ").append(c);
    }
    return sb.toString();
  }
}
