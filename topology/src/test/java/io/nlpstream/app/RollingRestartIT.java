package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.faults.DeliveryAudit;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed;
import io.nlpstream.faults.PipelineUnderTest;
import io.nlpstream.faults.ServiceProcess;
import io.nlpstream.faults.Tally;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart of two service instances (two {@code nlpstream run} processes, one
 * {@code application.id}, an input topic of 4 partitions) while input flows: start A; start B (the
 * partitions are rebalanced); restart A (SIGTERM, start again); then restart B. Every input must
 * come out exactly once, and each instance must have owned partitions at some point (its log names
 * the stream tasks that started on it). Sessions have their production length (45 s): a stopped
 * instance leaves the group, and the other one takes all partitions over before the stopped one is
 * back.
 */
class RollingRestartIT {

  private static final int PARTITIONS = 4;
  /**
   * How soon the remaining instance must own a stopped one's partitions: well under the 45 s session
   * timeout, which is what a stopped member that did not leave the group would cost.
   */
  private static final Duration HANDOVER_WITHIN = Duration.ofSeconds(30);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @Test
  void rollingRestartOfTwoInstancesLosesAndDuplicatesNothing() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "rolling-it", "rolling");
      pipeline.createTopics(PARTITIONS);
      Map<String, String> settingsA = productionSessions(pipeline.serviceSettings(tmp.resolve("state-a"), PARTITIONS));
      Map<String, String> settingsB = productionSessions(pipeline.serviceSettings(tmp.resolve("state-b"), PARTITIONS));
      List<ServiceProcess> incarnations = new ArrayList<>();
      try (DeliveryAudit audit = pipeline.audit();
           EventFeed feed = pipeline.feed(EventFeed.standardMix("rolling"), audit)) {
        ServiceProcess a1 = start("A1", settingsA, incarnations);
        a1.awaitRunning(PipelineUnderTest.START_TIMEOUT);
        phase("A1 running");
        feed.start(15);
        awaitMoreEnriched(audit, 20, a1);

        ServiceProcess b1 = start("B1", settingsB, incarnations);
        awaitTasks(b1, 1, PipelineUnderTest.START_TIMEOUT);
        phase("B1 owns " + b1.tasksStarted());
        awaitMoreEnriched(audit, 20, b1);

        int mark = b1.logText().length();
        assertThat(a1.stop(Duration.ofSeconds(90))).as("A1 exit status after SIGTERM; log:\n%s", a1.tail(60)).isZero();
        // A1 left the group on its way out: B1 takes its partitions over now, not after A1's session expires.
        awaitHandover(a1, b1, mark);
        phase("A1 stopped, B1 took over");
        awaitMoreEnriched(audit, 10, b1);
        ServiceProcess a2 = start("A2", settingsA, incarnations);
        awaitTasks(a2, 1, PipelineUnderTest.START_TIMEOUT);
        phase("A2 owns " + a2.tasksStarted());
        awaitMoreEnriched(audit, 20, a2);

        mark = a2.logText().length();
        assertThat(b1.stop(Duration.ofSeconds(90))).as("B1 exit status after SIGTERM; log:\n%s", b1.tail(60)).isZero();
        awaitHandover(b1, a2, mark);
        phase("B1 stopped, A2 took over");
        awaitMoreEnriched(audit, 10, a2);
        ServiceProcess b2 = start("B2", settingsB, incarnations);
        awaitTasks(b2, 1, PipelineUnderTest.START_TIMEOUT);
        phase("B2 owns " + b2.tasksStarted());
        awaitMoreEnriched(audit, 20, b2);

        feed.stop();
        assertThat(feed.failed()).as("inputs not acknowledged: %s", feed.firstFailure()).isZero();
        Tally tally = audit.awaitAccounted(Duration.ofMinutes(2));
        phase("input stopped, all accounted: " + tally.exact());
        assertThat(a2.stop(Duration.ofSeconds(90))).as("A2 exit status; log:\n%s", a2.tail(60)).isZero();
        assertThat(b2.stop(Duration.ofSeconds(90))).as("B2 exit status; log:\n%s", b2.tail(60)).isZero();
        phase("both stopped");
        tally = audit.readToEnd(Duration.ofMinutes(1));

        StringBuilder owners = new StringBuilder();
        for (ServiceProcess s : incarnations) {
          owners.append(' ').append(s.name()).append('=').append(s.tasksStarted());
        }
        System.out.printf("RollingRestartIT: %s; tasks started per incarnation:%s%n", tally, owners);
        assertThat(tally.sent()).isEqualTo(feed.sent());
        assertThat(tally.lost()).as("lost; %s", tally).isZero();
        assertThat(tally.duplicated()).as("duplicated; %s", tally).isZero();
        assertThat(tally.unexpected()).as("unexpected; %s", tally).isZero();
        // Each instance owned partitions, in each of its incarnations, and together they covered all four.
        for (ServiceProcess s : incarnations) {
          assertThat(s.tasksStarted()).as("tasks started on %s; log:\n%s", s.name(), s.tail(40)).isNotEmpty();
        }
        assertThat(incarnations.stream().flatMap(s -> s.tasksStarted().stream()).distinct())
            .containsExactlyInAnyOrder("0_0", "0_1", "0_2", "0_3");
      } finally {
        incarnations.forEach(ServiceProcess::close);
      }
    }
  }

  private final long startNanos = System.nanoTime();

  /** Progress on stdout (Failsafe's report keeps it): where a slow run spends its time. */
  private void phase(String what) {
    System.out.printf("RollingRestartIT +%.1f s: %s%n", (System.nanoTime() - startNanos) / 1e9, what);
  }

  private ServiceProcess start(String name, Map<String, String> settings, List<ServiceProcess> incarnations) {
    ServiceProcess s = PipelineUnderTest.startService(name, settings, tmp, PipelineUnderTest.SERVICE_JVM_OPTIONS);
    incarnations.add(s);
    return s;
  }

  /**
   * Production session timeouts (45 s): a stopped instance must hand its partitions over by leaving
   * the group, not by letting its session expire.
   */
  private static Map<String, String> productionSessions(Map<String, String> settings) {
    settings.remove("kafka.session.timeout.ms");
    settings.remove("kafka.heartbeat.interval.ms");
    return settings;
  }

  /** Waits until the instance runs and at least {@code tasks} distinct stream tasks have started on it. */
  private static void awaitTasks(ServiceProcess s, int tasks, Duration timeout) throws InterruptedException {
    s.awaitRunning(PipelineUnderTest.START_TIMEOUT);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (s.tasksStarted().size() < tasks) {
      assertThat(System.nanoTime() - deadline).as("%d task(s) on %s within %s (has %s); log:\n%s", tasks, s.name(),
          timeout, s.tasksStarted(), s.tail(40)).isNegative();
      assertThat(s.isAlive()).as("%s alive; log:\n%s", s.name(), s.tail(40)).isTrue();
      Thread.sleep(200);
    }
  }

  /**
   * Waits until tasks start on {@code successor} (in its log after {@code mark}) once {@code stopped}
   * is gone, so that the successor owns all partitions.
   */
  private static void awaitHandover(ServiceProcess stopped, ServiceProcess successor, int mark)
      throws InterruptedException {
    long deadline = System.nanoTime() + HANDOVER_WITHIN.toNanos();
    while (successor.tasksStartedSince(mark).isEmpty() || successor.tasksStarted().size() < PARTITIONS) {
      assertThat(System.nanoTime() - deadline).as("%s took %s's partitions over within %s (it started %s since); log:\n%s",
          successor.name(), stopped.name(), HANDOVER_WITHIN, successor.tasksStartedSince(mark), successor.tail(40))
          .isNegative();
      Thread.sleep(200);
    }
  }

  /** Polls until {@code more} enriched records arrived beyond those already read. */
  private static void awaitMoreEnriched(DeliveryAudit audit, int more, ServiceProcess newest) {
    int target = audit.received(Output.ENRICHED) + more;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (audit.received(Output.ENRICHED) < target) {
      assertThat(System.nanoTime() - deadline).as("%d more enriched within 2 min; log of %s:\n%s", more,
          newest.name(), newest.tail(40)).isNegative();
      assertThat(newest.isAlive()).as("%s alive; log:\n%s", newest.name(), newest.tail(40)).isTrue();
      audit.poll(Duration.ofMillis(200));
    }
  }
}
