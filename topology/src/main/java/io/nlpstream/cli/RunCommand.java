package io.nlpstream.cli;

import io.nlpstream.app.Pipeline;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.ops.Observability;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Runs the pipeline's stages ({@code --stage bert|gpt|all}, each its own Kafka Streams client)
 * against the configured Kafka cluster until the process is told to stop. SIGTERM or SIGINT run a
 * shutdown hook that closes the stages (each Kafka Streams client commits and leaves its group, then
 * its stage and models close) and exits 0. Kafka Streams stopping by itself
 * on a fatal error exits 1. The operations endpoint ({@code metrics.port}: {@code /metrics},
 * {@code /health}, {@code /ready}) runs for the whole life of the process, one for all its stages.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs the pipeline against bootstrap.servers until stopped (SIGTERM = clean shutdown, exit 0).")
final class RunCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Mixin
  ConfigOptions configOptions;

  @Option(names = "--stage", paramLabel = "STAGE", defaultValue = "all",
      description = "bert (text.in -> enriched, GPT requests), gpt (GPT requests -> summaries, replies) or all"
          + " (both, each with its own Kafka Streams client and application id). Default: ${DEFAULT-VALUE}.")
  String stage;

  @Override
  public Integer call() throws InterruptedException {
    NlpstreamConfig config = configOptions.load(Map.of());
    Pipeline.Stages stages = stages(stage);
    // Up first: /health answers while the models load; /ready turns 200 once every stage runs. One
    // endpoint for the process, whichever stages it runs.
    Observability observability = Observability.start(config);
    Pipeline app;
    try {
      app = Pipeline.start(config, stages, observability);
    } catch (RuntimeException e) {
      observability.close();
      throw e;
    }
    Runnable closeAll = () -> {
      try {
        app.close();
      } finally {
        observability.close();
      }
    };
    AtomicBoolean stopRequested = new AtomicBoolean();
    AtomicBoolean exitingOnItsOwn = new AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (exitingOnItsOwn.get()) {
        return;
      }
      stopRequested.set(true);
      LOG.info("shutdown requested: closing the pipeline ({})", stages);
      int status = 0;
      try {
        closeAll.run();
        LOG.info("clean shutdown complete");
      } catch (RuntimeException e) {
        LOG.error("the pipeline did not close cleanly", e);
        status = 1;
      }
      System.out.flush();
      System.err.flush();
      // A JVM ended by a signal exits 128+signal even after a clean shutdown; a stop that was asked
      // for and went well is a success, so say so to the supervisor.
      Runtime.getRuntime().halt(status);
    }, "nlpstream-shutdown"));
    try {
      // No time limit on getting there: restoring a large buffer store may take a while.
      if (app.enrichment() != null) {
        app.enrichment().running().thenRun(() -> LOG.info("enrichment running"));
      }
      if (app.generation() != null) {
        app.generation().running().thenRun(() -> LOG.info("generation running"));
      }
      KafkaStreams.State end = app.terminated().get();
      if (stopRequested.get()) {
        // Stopped by the shutdown hook, which also ends the process.
        return 0;
      }
      exitingOnItsOwn.set(true);
      closeAll.run();
      throw new CommandFailure("Kafka Streams stopped by itself in state " + end
          + " (see the log above); committed work is kept and a restart resumes from it");
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for the pipeline", e.getCause());
    } catch (RuntimeException e) {
      if (!stopRequested.get()) {
        exitingOnItsOwn.set(true);
        closeAll.run();
      }
      throw e;
    }
  }

  static Pipeline.Stages stages(String value) {
    return switch (value) {
      case "bert" -> Pipeline.Stages.BERT;
      case "gpt" -> Pipeline.Stages.GPT;
      case "all" -> Pipeline.Stages.ALL;
      default -> throw new org.apache.kafka.common.config.ConfigException("--stage", value, "expected bert, gpt or all");
    };
  }
}
