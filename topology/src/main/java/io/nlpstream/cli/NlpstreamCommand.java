package io.nlpstream.cli;

import io.nlpstream.models.hub.HubException;
import io.nlpstream.models.runtime.ModelLoadException;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nlpstream} command line (main class of {@code nlpstream.jar}). Exit codes: 0 success,
 * 1 failure at run time, 2 bad usage or configuration (the message names the option, key or file).
 */
@Command(name = "nlpstream", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Streaming NLP on Apache Kafka: BERT enrichment (sentiment, entities, classes) and GPT summaries and"
        + " replies inside Kafka Streams.",
    subcommands = {DemoCommand.class, RunCommand.class, BenchCommand.class, EvalCommand.class, ModelsCommand.class,
        ConfigDocsCommand.class, SoakCommand.class, CommandLine.HelpCommand.class})
public final class NlpstreamCommand {

  /** Exit code of bad usage or configuration. */
  public static final int EXIT_CONFIG = 2;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured picocli command line (also used by tests). */
  public static CommandLine commandLine() {
    return commandLine(CommandLine.defaultFactory());
  }

  /** The command line with commands made by {@code factory} (tests give commands their own environment). */
  static CommandLine commandLine(CommandLine.IFactory factory) {
    CommandLine cli = new CommandLine(new NlpstreamCommand(), factory);
    cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
      if (e instanceof ConfigException || e instanceof ModelLoadException) {
        // Start-up problems the user can fix: the message names the key or file; no stack trace.
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": configuration error: " + e.getMessage());
        return EXIT_CONFIG;
      }
      // A HubException's message says all (repository, revision, file, what to do); its causes are noise.
      cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": "
          + (e instanceof HubException ? e.getMessage() : describe(e)));
      if (!(e instanceof CommandFailure) && !(e instanceof HubException)) {
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
