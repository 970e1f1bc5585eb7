package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.faults.DeliveryAudit;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed;
import io.nlpstream.faults.PipelineUnderTest;
import io.nlpstream.faults.Tally;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away for 30 s in the middle of a run (SIGTERM, controlled shutdown) and comes
 * back on the same ports and the same log directory. The service, with its default timeouts, must
 * ride it out without stopping (Kafka Streams retries; an open transaction that times out meanwhile
 * is aborted and its records processed again from the committed state) and end with every input
 * accounted for exactly once. The broker stops in the middle of a burst, while hundreds of records
 * are taken but not yet written; steady input goes on before and after (the test's producer blocks
 * while the broker is away: its metadata is gone).
 */
class BrokerOutageIT {

  private static final Duration OUTAGE = Duration.ofSeconds(30);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @Test
  void serviceRidesOutA30SecondBrokerStopWithExactCounts() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(tmp.resolve("broker")).start()) {
      PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "outage-it", "outage");
      pipeline.createTopics(2);
      Map<String, Object> settings = new HashMap<>(pipeline.serviceSettings(tmp.resolve("state"), 2));
      settings.remove(NlpstreamConfig.METRICS_PORT);
      NlpstreamConfig config = NlpstreamConfig.load(null, Map.of(), settings);

      try (DeliveryAudit audit = pipeline.audit();
           EventFeed feed = pipeline.feed(EventFeed.standardMix("outage"), audit)) {
        Tally tally;
        try (EnrichmentApp app = EnrichmentApp.start(config)) {
          app.awaitRunning(Duration.ofMinutes(2));
          feed.start(15);
          awaitEnriched(audit, 30, app);

          // A burst on top of the steady input, acknowledged, then the stop at once, while the service
          // is in the middle of it: records fetched or buffered, results not yet committed.
          feed.send(300);
          audit.poll(Duration.ZERO);
          long inFlight = audit.tally().lost();
          broker.stop();
          assertThat(broker.isRunning()).isFalse();
          long outageEnd = System.nanoTime() + OUTAGE.toNanos();
          while (System.nanoTime() < outageEnd) {
            assertThat(app.terminated()).as("the service stops during the outage (state %s)", app.state()).isNotDone();
            Thread.sleep(500);
          }
          broker.restart();

          int afterOutage = audit.received(Output.ENRICHED);
          awaitEnriched(audit, afterOutage + 60, app);
          feed.stop();
          assertThat(feed.failed()).as("inputs not acknowledged: %s", feed.firstFailure()).isZero();
          tally = audit.awaitAccounted(Duration.ofMinutes(3));
          assertThat(app.terminated()).as("the service stopped (state %s)", app.state()).isNotDone();
          awaitState(app, KafkaStreams.State.RUNNING);
          System.out.printf("BrokerOutageIT: %d inputs without output when the broker stopped for %s; %s; %s%n",
              inFlight, OUTAGE, tally, app.counters().snapshot());
          // The outage hit work in progress, not an idle service.
          assertThat(inFlight).as("acknowledged inputs without output when the broker stopped").isGreaterThan(50);
        }
        // The app is closed (its last transaction committed): read to the end, duplicates would show now.
        tally = audit.readToEnd(Duration.ofMinutes(1));
        assertThat(tally.sent()).isEqualTo(feed.sent());
        assertThat(tally.lost()).as("lost; %s", tally).isZero();
        assertThat(tally.duplicated()).as("duplicated; %s", tally).isZero();
        assertThat(tally.unexpected()).as("unexpected; %s", tally).isZero();
        assertThat(tally.deadLettered()).isPositive();
        assertThat(tally.routed()).isPositive();
      }
    }
  }

  private static void awaitEnriched(DeliveryAudit audit, int enriched, EnrichmentApp app) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (audit.received(Output.ENRICHED) < enriched) {
      assertThat(System.nanoTime() - deadline).as("%d enriched within 3 min (have %d, state %s)", enriched,
          audit.received(Output.ENRICHED), app.state()).isNegative();
      assertThat(app.terminated()).as("the service stopped (state %s)", app.state()).isNotDone();
      audit.poll(Duration.ofMillis(200));
    }
  }

  private static void awaitState(EnrichmentApp app, KafkaStreams.State state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (app.state() != state) {
      assertThat(System.nanoTime() - deadline).as("state %s within 1 min (is %s)", state, app.state()).isNegative();
      Thread.sleep(200);
    }
  }
}
