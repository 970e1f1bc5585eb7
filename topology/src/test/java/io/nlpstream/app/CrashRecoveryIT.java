package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.faults.DeliveryAudit;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed;
import io.nlpstream.faults.PipelineUnderTest;
import io.nlpstream.faults.ServiceProcess;
import io.nlpstream.faults.Tally;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service survives {@code kill -9}: records whose input offsets are committed while they still
 * wait in the BERT stage's batch buffer are not lost, and under {@code exactly_once_v2} nothing is
 * written twice, whatever the moment of the kill.
 *
 * <p>The service runs as a separate process, {@code nlpstream run --config FILE}
 * ({@link ServiceProcess}); the test owns the broker, feeds the input ({@link EventFeed}) and counts
 * the outputs by event id as committed ({@link DeliveryAudit}, {@code read_committed}).
 */
class CrashRecoveryIT {

  private static EmbeddedKafkaBroker broker;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  /**
   * Twelve records are taken (offsets committed) but not inferred: the batcher waits for 1000
   * records or 10 minutes. kill -9; a restart on a fresh state directory (so the buffer can only
   * come back from its changelog topic) enriches each exactly once; SIGTERM then exits 0.
   */
  @Test
  void committedButUnprocessedRecordsSurviveKillMinusNine() throws Exception {
    int valid = 12;
    PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "crash-it", "crash");
    // One partition: the committed offset of the group is then simply the count of records taken.
    pipeline.createTopics(1);
    try (DeliveryAudit audit = pipeline.audit();
         EventFeed feed = pipeline.feed(EventFeed.validMix("crash"), audit);
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      Map<String, String> buffering = pipeline.serviceSettings(tmp.resolve("state-buffering"), 1);
      buffering.putAll(Map.of(NlpstreamConfig.BATCH_MAX_WAIT_MS, "600000", NlpstreamConfig.BATCH_MAX_SIZE, "1000",
          NlpstreamConfig.BATCH_MAX_TOKENS, "200000", NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS, "200000"));
      try (ServiceProcess first = start("buffering", buffering)) {
        first.awaitRunning(PipelineUnderTest.START_TIMEOUT);
        feed.send(valid);

        // The input offsets are committed while the records sit in the buffer: without the
        // changelogged buffer store they would now be lost.
        awaitCommittedOffset(admin, pipeline, valid, Duration.ofMinutes(1));
        audit.poll(Duration.ofSeconds(2));
        assertThat(audit.received(Output.ENRICHED)).as("nothing inferred yet").isZero();
        assertThat(first.kill()).as("killed by SIGKILL").isEqualTo(137);
      }

      // Restart with normal batching on a fresh state directory: the buffer comes back from Kafka.
      try (ServiceProcess second = start("normal", pipeline.serviceSettings(tmp.resolve("state-normal"), 1))) {
        Tally tally = audit.awaitAccounted(Duration.ofMinutes(3));
        assertThat(tally.exact()).as("%s; service log:\n%s", tally, second.tail(60)).isTrue();
        assertThat(tally.enriched()).isEqualTo(valid);
        assertThat(second.logText()).contains("resubmitted " + valid + " buffered record(s)");

        // SIGTERM: clean shutdown, exit 0.
        assertThat(second.stop(Duration.ofSeconds(90))).as("exit status after SIGTERM; log:\n%s", second.tail(60))
            .isZero();
        assertThat(second.logText()).contains(ServiceProcess.CLEAN_SHUTDOWN_LINE);
      }
    }
  }

  /**
   * Continuous input (valid, invalid and routed events) over two partitions, records held up to
   * 1.5 s in the batch buffer; the service is killed with SIGKILL once while it processes, restarted,
   * killed again as soon as it runs again (before it has caught up), and restarted. Every input must
   * come out exactly once: one enriched record per valid event, one dead letter per invalid one, one
   * GPT request per routed one.
   */
  @Test
  void killedTwiceInARowThenRestartedLosesAndDuplicatesNothing() throws Exception {
    PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "kill2-it", "kill2");
    pipeline.createTopics(2);
    Map<String, String> settings = pipeline.serviceSettings(tmp.resolve("state"), 2);
    // Records wait in the buffer (offsets committed) for up to 1.5 s: a kill always finds some there.
    settings.put(NlpstreamConfig.BATCH_MAX_WAIT_MS, "1500");
    settings.put(NlpstreamConfig.BATCH_MAX_SIZE, "64");
    try (DeliveryAudit audit = pipeline.audit();
         EventFeed feed = pipeline.feed(EventFeed.standardMix("kill2"), audit)) {
      try (ServiceProcess first = start("first", settings)) {
        first.awaitRunning(PipelineUnderTest.START_TIMEOUT);
        feed.start(20);
        awaitOutputs(audit, 40, first);
        assertThat(first.kill()).as("first kill").isEqualTo(137);
      }
      int beforeSecond = audit.received(Output.ENRICHED);
      try (ServiceProcess second = start("second", settings)) {
        second.awaitRunning(PipelineUnderTest.START_TIMEOUT);
        // It runs, with records restored into its buffer and new ones arriving: kill it again at once.
        assertThat(second.kill()).as("second kill").isEqualTo(137);
        // The first kill found records taken (offsets committed) but not yet forwarded.
        assertThat(second.logText()).as("log of the second incarnation").contains("buffered record(s) from store");
      }
      try (ServiceProcess third = start("third", settings)) {
        third.awaitRunning(PipelineUnderTest.START_TIMEOUT);
        awaitOutputs(audit, beforeSecond + 40, third);
        feed.stop();
        assertThat(feed.failed()).as("inputs not acknowledged: %s", feed.firstFailure()).isZero();
        Tally tally = audit.awaitAccounted(Duration.ofMinutes(2));
        // Stop cleanly, then read to the end: anything written after the first pass would be a duplicate.
        assertThat(third.stop(Duration.ofSeconds(90))).as("exit status after SIGTERM; log:\n%s", third.tail(60))
            .isZero();
        tally = audit.readToEnd(Duration.ofMinutes(1));
        System.out.printf("CrashRecoveryIT kill -9 twice: %s%n", tally);
        assertThat(tally.sent()).as("inputs acknowledged").isEqualTo(feed.sent()).isGreaterThan(100);
        assertThat(tally.lost()).as("lost; %s; log of the last incarnation:\n%s", tally, third.tail(60)).isZero();
        assertThat(tally.duplicated()).as("duplicated; %s", tally).isZero();
        assertThat(tally.unexpected()).as("unexpected; %s", tally).isZero();
        assertThat(tally.deadLettered()).as("invalid inputs dead-lettered").isPositive();
        assertThat(tally.routed()).as("routed inputs").isPositive();
        List<JsonNode> dead = audit.records(Output.DEAD_LETTER);
        assertThat(dead).allSatisfy(d -> assertThat(d.path("stage").asText()).isEqualTo("parse"));
      }
    }
  }

  private ServiceProcess start(String name, Map<String, String> settings) {
    return PipelineUnderTest.startService(name, settings, tmp, PipelineUnderTest.SERVICE_JVM_OPTIONS);
  }

  /** Polls the audit until {@code enriched} enriched records have arrived. */
  private static void awaitOutputs(DeliveryAudit audit, int enriched, ServiceProcess service) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (audit.received(Output.ENRICHED) < enriched) {
      assertThat(System.nanoTime() - deadline).as("%d enriched records within 2 min (have %d); log of %s:\n%s",
          enriched, audit.received(Output.ENRICHED), service.name(), service.tail(60)).isNegative();
      assertThat(service.isAlive()).as("service %s alive; log:\n%s", service.name(), service.tail(60)).isTrue();
      audit.poll(Duration.ofMillis(200));
    }
  }

  private static void awaitCommittedOffset(Admin admin, PipelineUnderTest pipeline, long expected, Duration timeout)
      throws Exception {
    TopicPartition tp = new TopicPartition(pipeline.inputTopic(), 0);
    long deadline = System.nanoTime() + timeout.toNanos();
    long committed = -1;
    while (System.nanoTime() < deadline) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(pipeline.applicationId())
          .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      OffsetAndMetadata o = offsets.get(tp);
      committed = o == null ? -1 : o.offset();
      if (committed >= expected) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("committed offset of " + pipeline.applicationId() + " on " + tp + " is " + committed
        + ", expected " + expected);
  }
}
