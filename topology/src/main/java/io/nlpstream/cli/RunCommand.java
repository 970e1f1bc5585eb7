package io.nlpstream.cli;

import io.nlpstream.app.EnrichmentApp;
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

/**
 * Runs the enrichment service against the configured Kafka cluster until the process is told to
 * stop. SIGTERM or SIGINT run a shutdown hook that closes the app (Kafka Streams commits and leaves
 * the group, then stage, analyzer and runtime close) and exits 0. Kafka Streams stopping by itself
 * on a fatal error exits 1. The operations endpoint ({@code metrics.port}) runs for the whole life
 * of the process.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs the enrichment service against bootstrap.servers until stopped (SIGTERM = clean shutdown, exit 0).")
final class RunCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Mixin
  ConfigOptions configOptions;

  @Override
  public Integer call() throws InterruptedException {
    NlpstreamConfig config = configOptions.load(Map.of());
    // Up first: /health answers while the models load; /ready turns 200 once every stage runs.
    Observability observability = Observability.start(config);
    EnrichmentApp app;
    try {
      app = EnrichmentApp.start(config, observability);
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
      LOG.info("shutdown requested: closing the enrichment service");
      int status = 0;
      try {
        closeAll.run();
        LOG.info("clean shutdown complete");
      } catch (RuntimeException e) {
        LOG.error("the enrichment service did not close cleanly", e);
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
      app.running().thenRun(() -> LOG.info("enrichment running"));
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
      throw new IllegalStateException("waiting for the enrichment service", e.getCause());
    } catch (RuntimeException e) {
      if (!stopRequested.get()) {
        exitingOnItsOwn.set(true);
        closeAll.run();
      }
      throw e;
    }
  }
}
