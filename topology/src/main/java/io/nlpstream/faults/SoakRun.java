package io.nlpstream.faults;

import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The soak scenario: an embedded broker, the enrichment service as a child process
 * ({@link ServiceProcess}), continuous input ({@link EventFeed#standardMix}: valid, invalid and routed
 * events) for the given duration, and faults at a fixed period, alternately a {@code kill -9} of the
 * service (restarted at once on the same state directory, as a supervisor would) and a broker stop
 * for {@link Options#brokerOutage()} followed by a start on the same ports and data. Then the input
 * stops, the outputs are awaited ({@link Options#drainTimeout()}), the service is stopped cleanly, and
 * the outputs are counted by event id as committed ({@link DeliveryAudit}).
 *
 * <p>A service that exits by itself (not killed by the scenario) is restarted too, and counted: it
 * should never happen. Everything the run writes lands in {@code run-<id>/} under
 * {@link Options#workDir()}: the broker's directory and log, and each service incarnation's
 * configuration, state directory and log; nothing of an earlier run is reused.
 *
 * <p>Not thread-safe: {@link #run} is called once, from one thread.
 */
public final class SoakRun {

  /** Kinds of fault, applied in this order, round robin. */
  enum Fault { KILL_SERVICE, BROKER_OUTAGE }

  /**
   * @param duration       how long input flows and faults are injected
   * @param ratePerSecond  input events per second
   * @param faultEvery     time between the end of one fault's recovery and the next fault
   * @param brokerOutage   how long the broker stays stopped
   * @param partitions     partitions of the input topic
   * @param drainTimeout   how long to wait for the last outputs after the input stops
   * @param workDir        where the runs' directories go: {@code run-<id>/} with the broker data and the
   *                       logs of each service incarnation (created; kept)
   * @param serviceSettings extra service configuration keys (override the scenario's)
   */
  public record Options(Duration duration, double ratePerSecond, Duration faultEvery, Duration brokerOutage,
                        int partitions, Duration drainTimeout, Path workDir, Map<String, String> serviceSettings) {
    public Options {
      Objects.requireNonNull(duration, "duration");
      Objects.requireNonNull(faultEvery, "faultEvery");
      Objects.requireNonNull(brokerOutage, "brokerOutage");
      Objects.requireNonNull(drainTimeout, "drainTimeout");
      Objects.requireNonNull(workDir, "workDir");
      serviceSettings = Map.copyOf(serviceSettings);
      if (!(ratePerSecond > 0) || partitions < 1) {
        throw new IllegalArgumentException("rate must be > 0 and partitions >= 1");
      }
    }
  }

  /**
   * What happened.
   *
   * @param tally             the counts
   * @param serviceKills      {@code kill -9} of the service by the scenario
   * @param brokerOutages     broker stop/starts
   * @param unplannedExits    times the service exited by itself (restarted each time)
   * @param cleanStop         whether the last incarnation stopped cleanly on SIGTERM (exit status 0)
   * @param exactlyOnce       whether the service ran under exactly_once_v2 (duplicates then count as a failure)
   * @param elapsed           wall time of the whole run
   */
  public record Result(Tally tally, int serviceKills, int brokerOutages, int unplannedExits, boolean cleanStop,
                       boolean exactlyOnce, Duration elapsed) {
    /**
     * Nothing lost or unexpected, no duplicate under exactly-once, the service never stopped by itself
     * and it stopped cleanly at the end.
     */
    public boolean passed() {
      return tally.lost() == 0 && tally.unexpected() == 0 && (!exactlyOnce || tally.duplicated() == 0)
          && unplannedExits == 0 && cleanStop;
    }
  }

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(15);
  /** No fault starts later than this before the input stops. */
  private static final Duration LAST_FAULT_BEFORE_END = Duration.ofSeconds(10);

  private final Options options;
  private final PrintWriter progress;
  private int incarnation;
  private int kills;
  private int outages;
  private int unplannedExits;
  private long startNanos;
  private long lastProgressNanos;
  private Path workDir;

  private SoakRun(Options options, PrintWriter progress) {
    this.options = options;
    this.progress = progress;
  }

  /** Runs the scenario; progress lines go to {@code progress}. */
  public static Result run(Options options, PrintWriter progress) {
    return new SoakRun(options, progress).run();
  }

  private Result run() {
    startNanos = System.nanoTime();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    workDir = options.workDir().resolve("run-" + runId);
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + workDir, e);
    }
    say("work directory %s (broker data, service logs)", workDir.toAbsolutePath());
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(workDir.resolve("broker")).start()) {
      PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "soak-" + runId, "soak-" + runId);
      pipeline.createTopics(options.partitions());
      Map<String, String> settings = pipeline.serviceSettings(workDir.resolve("state"), options.partitions());
      settings.putAll(options.serviceSettings());
      boolean exactlyOnce = "exactly_once_v2".equals(
          settings.getOrDefault(NlpstreamConfig.PROCESSING_GUARANTEE, "exactly_once_v2"));

      try (DeliveryAudit audit = pipeline.audit();
           EventFeed feed = pipeline.feed(EventFeed.standardMix("soak-" + runId), audit)) {
        ServiceProcess service = startService(settings);
        int stopStatus = -1;
        try {
          feed.start(options.ratePerSecond());
          say("input at %.1f events/s for %s; a fault every %s (kill -9 of the service, broker stop for %s)",
              options.ratePerSecond(), human(options.duration()), human(options.faultEvery()),
              human(options.brokerOutage()));
          long end = System.nanoTime() + options.duration().toNanos();
          long nextFault = System.nanoTime() + options.faultEvery().toNanos();
          Fault fault = Fault.KILL_SERVICE;
          while (System.nanoTime() < end) {
            service = superviseFor(service, settings, audit, Math.min(end, nextFault) - System.nanoTime());
            if (System.nanoTime() >= end - LAST_FAULT_BEFORE_END.toNanos()) {
              // Input must still flow across each fault; a fault at the very end would only lengthen the run.
              service = superviseFor(service, settings, audit, end - System.nanoTime());
              break;
            }
            if (fault == Fault.KILL_SERVICE) {
              service = killAndRestart(service, settings);
              fault = Fault.BROKER_OUTAGE;
            } else {
              outage(broker, audit);
              fault = Fault.KILL_SERVICE;
            }
            nextFault = System.nanoTime() + options.faultEvery().toNanos();
          }
          feed.stop();
          say("input stopped: %d events sent, %d acknowledged, %d failed; waiting up to %s for the outputs",
              feed.sent(), feed.acknowledged(), feed.failed(), human(options.drainTimeout()));
          long drainEnd = System.nanoTime() + options.drainTimeout().toNanos();
          while (!audit.accounted() && System.nanoTime() < drainEnd) {
            service = superviseFor(service, settings, audit, Math.min(drainEnd - System.nanoTime(), 5_000_000_000L));
          }
          stopStatus = service.stop(Duration.ofSeconds(90));
          say("%s stopped with SIGTERM: exit status %d", service.name(), stopStatus);
        } finally {
          service.close();
        }
        Tally tally = audit.readToEnd(Duration.ofMinutes(1));
        return new Result(tally, kills, outages, unplannedExits, stopStatus == 0, exactlyOnce,
            Duration.ofNanos(System.nanoTime() - startNanos));
      }
    }
  }

  private ServiceProcess startService(Map<String, String> settings) {
    incarnation++;
    ServiceProcess s = PipelineUnderTest.startService("service-" + incarnation, settings, workDir,
        PipelineUnderTest.SERVICE_JVM_OPTIONS);
    s.awaitRunning(PipelineUnderTest.START_TIMEOUT);
    say("%s running (pid %d)", s.name(), s.pid());
    return s;
  }

  /** Polls the outputs for {@code nanos}, restarting the service if it exits by itself. */
  private ServiceProcess superviseFor(ServiceProcess service, Map<String, String> settings, DeliveryAudit audit,
                                      long nanos) {
    long until = System.nanoTime() + Math.max(0, nanos);
    ServiceProcess current = service;
    do {
      audit.poll(Duration.ofMillis(200));
      if (!current.isAlive()) {
        unplannedExits++;
        say("UNPLANNED: %s exited by itself with status %d; last lines of %s:%n%s", current.name(),
            current.stop(Duration.ofSeconds(1)), current.log(), current.tail(20));
        current.close();
        current = startService(settings);
      }
      if (System.nanoTime() - lastProgressNanos > PROGRESS_EVERY.toNanos()) {
        lastProgressNanos = System.nanoTime();
        Tally t = audit.tally();
        say("sent %d, enriched %d, dlq %d, routed %d", t.sent(), t.enriched(), t.deadLettered(), t.routed());
      }
    } while (System.nanoTime() < until);
    return current;
  }

  private ServiceProcess killAndRestart(ServiceProcess service, Map<String, String> settings) {
    say("fault: kill -9 %s (pid %d)", service.name(), service.pid());
    int status = service.kill();
    kills++;
    service.close();
    if (status != 137) {
      say("note: %s had already exited with %d", service.name(), status);
    }
    return startService(settings);
  }

  private void outage(EmbeddedKafkaBroker broker, DeliveryAudit audit) {
    say("fault: broker stopped for %s", human(options.brokerOutage()));
    broker.stop();
    outages++;
    sleep(options.brokerOutage());
    broker.restart();
    say("broker started again on the same ports and data");
    audit.poll(Duration.ofMillis(200));
  }

  private void say(String format, Object... args) {
    long s = Duration.ofNanos(System.nanoTime() - startNanos).toSeconds();
    progress.printf(Locale.ROOT, "soak %d:%02d  %s%n", s / 60, s % 60, String.format(Locale.ROOT, format, args));
    progress.flush();
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    return s % 60 == 0 && s >= 60 ? (s / 60) + " min" : s + " s";
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
