package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.faults.DeliveryAudit;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed;
import io.nlpstream.faults.EventFeed.Event;
import io.nlpstream.faults.EventFeed.Outcome;
import io.nlpstream.faults.PipelineUnderTest;
import io.nlpstream.faults.Tally;
import io.nlpstream.models.gpt.DecoderCallListener;
import io.nlpstream.ops.Observability;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow GPT stage behind a BERT stage at full speed, both in one process on the embedded broker with
 * the real models: every decoder call of the real generator is made 300 ms slower (as a slow or
 * overloaded accelerator would be) while input flows, half of it routed to the GPT stage. Then:
 * <ul>
 *   <li>the BERT stage is not held back: all its outputs (enriched, dead letters, GPT requests)
 *       are written while the GPT stage still has most of its requests ahead of it;</li>
 *   <li>the GPT stage's memory stays bounded: requests queued in the generator never exceed
 *       {@code gpt.max.queued}, requests buffered per task stay near {@code gpt.max.pending.per.task}
 *       (beyond it a task takes one request per {@code gpt.max.block.ms}), and the rest of the
 *       backlog waits in Kafka;</li>
 *   <li>the backlog shows on {@code /metrics}: the GPT stage's consumer lag
 *       ({@code kafka_consumer_fetch_manager_records_lag_max{stage="gpt"}}) and its buffered
 *       requests ({@code nlpstream_buffered_records{stage="gpt"}});</li>
 *   <li>once the delay ends, every routed input gets exactly one summary or reply.</li>
 * </ul>
 */
class SlowGptStageIT {

  private static final long DELAY_PER_DECODER_CALL_MS = 300;
  private static final Duration SLOW_INPUT = Duration.ofSeconds(30);
  private static final int MAX_QUEUED = 8;
  private static final int MAX_PENDING_PER_TASK = 8;
  private static final long MAX_BLOCK_MS = 5000;
  private static final int PARTITIONS = 2;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  /** Sleeps on the generator's decoding thread after each decoder call while {@code slow}. */
  static final class SlowDecoder implements DecoderCallListener {
    volatile boolean slow = true;

    @Override
    public void onCall(Phase phase, int sequences, int tokens, int paddedTokens, long nanos) {
      if (slow) {
        try {
          Thread.sleep(DELAY_PER_DECODER_CALL_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  @Test
  void bertKeepsGoingGptMemoryStaysBoundedAndTheBacklogIsAnsweredOnceTheDelayEnds() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "slow-gpt-it", "slowgpt");
      pipeline.createTopics(PARTITIONS);
      Map<String, Object> settings = new HashMap<>(pipeline.serviceSettings(tmp.resolve("state"), PARTITIONS));
      settings.putAll(GptBundles.settings(tmp.resolve("catalog"), false));
      settings.put(NlpstreamConfig.MODEL_CACHE_DIR, tmp.resolve("models").toString());
      settings.put(NlpstreamConfig.GPT_MAX_QUEUED, Integer.toString(MAX_QUEUED));
      settings.put(NlpstreamConfig.GPT_MAX_PENDING_PER_TASK, Integer.toString(MAX_PENDING_PER_TASK));
      settings.put(NlpstreamConfig.GPT_MAX_BLOCK_MS, Long.toString(MAX_BLOCK_MS));
      // Kafka Streams' own input queue (in memory) holds at most this many records per partition, and a
      // poll brings at most this many: the backlog beyond them stays in Kafka, as consumer lag.
      settings.put("kafka.buffered.records.per.partition", "20");
      settings.put("kafka.max.poll.records", "20");
      NlpstreamConfig config = NlpstreamConfig.load(null, Map.of(), settings);

      // Every other event asks for a reply: the GPT stage gets 10 requests/s at 20 events/s.
      EventFeed.Mix mix = seq -> {
        String id = "sg-" + seq;
        String text = "Hello, my parcel number " + seq + " has not arrived yet, can you help me?";
        return seq % 2 == 0
            ? new Event(id, EventFeed.json("id", id, "source", "chat", "task", "reply", "text", text), Outcome.ENRICHED, true)
            : new Event(id, EventFeed.json("id", id, "source", "chat", "text", text), Outcome.ENRICHED, false);
      };
      SlowDecoder slowDecoder = new SlowDecoder();
      try (Observability ops = Observability.start(config);
           DeliveryAudit audit = pipeline.auditWithAnswers();
           EventFeed feed = pipeline.feed(mix, audit);
           EnrichmentApp bert = EnrichmentApp.start(config, ops);
           GenerationApp gpt = GenerationApp.start(config, ops, slowDecoder)) {
        bert.awaitRunning(Duration.ofMinutes(2));
        gpt.running().get(2, TimeUnit.MINUTES);
        URI metrics = URI.create("http://" + ops.address().orElseThrow().getHostString() + ":"
            + ops.address().orElseThrow().getPort() + "/metrics");
        HttpClient http = HttpClient.newHttpClient();

        // 1. Input at 20 events/s for 30 s while every decoder call takes 300 ms longer.
        long slowStart = System.nanoTime();
        feed.start(20);
        double maxQueued = 0;
        double maxBuffered = 0;
        double maxLag = 0;
        while (System.nanoTime() - slowStart < SLOW_INPUT.toNanos()) {
          audit.poll(Duration.ofMillis(500));
          String text = scrape(http, metrics);
          maxQueued = Math.max(maxQueued, gauge(text, "nlpstream_batcher_queued_records", "gpt"));
          maxBuffered = Math.max(maxBuffered, gauge(text, "nlpstream_buffered_records", "gpt"));
          maxLag = Math.max(maxLag, gauge(text, "kafka_consumer_fetch_manager_records_lag_max", "gpt"));
        }
        feed.stop();
        assertThat(feed.failed()).isZero();
        double sendSeconds = (System.nanoTime() - slowStart) / 1e9;

        // 2. The BERT stage finishes everything while the GPT stage is still slow and far behind.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        EnumSet<Output> bertOutputs = EnumSet.of(Output.ENRICHED, Output.DEAD_LETTER, Output.ROUTED);
        while (!audit.accounted(bertOutputs) && System.nanoTime() < deadline) {
          audit.poll(Duration.ofMillis(500));
          String text = scrape(http, metrics);
          maxQueued = Math.max(maxQueued, gauge(text, "nlpstream_batcher_queued_records", "gpt"));
          maxBuffered = Math.max(maxBuffered, gauge(text, "nlpstream_buffered_records", "gpt"));
          maxLag = Math.max(maxLag, gauge(text, "kafka_consumer_fetch_manager_records_lag_max", "gpt"));
        }
        double bertSeconds = (System.nanoTime() - slowStart) / 1e9;
        Tally whileSlow = audit.tally();
        String atTheEndOfTheDelay = scrape(http, metrics);
        double lagAtEnd = gauge(atTheEndOfTheDelay, "kafka_consumer_fetch_manager_records_lag_max", "gpt");
        double bufferedAtEnd = gauge(atTheEndOfTheDelay, "nlpstream_buffered_records", "gpt");
        System.out.printf("SlowGptStageIT slow phase: %d inputs in %.1f s; BERT done after %.1f s (%.1f enriched/s);"
                + " GPT answered %d of %d; max generator queue %.0f (cap %d), max buffered %.0f, max GPT lag %.0f;"
                + " at the end lag %.0f, buffered %.0f%n", whileSlow.sent(), sendSeconds, bertSeconds,
            whileSlow.enriched() / bertSeconds, whileSlow.output("answered").received(), whileSlow.routed(),
            maxQueued, MAX_QUEUED, maxBuffered, maxLag, lagAtEnd, bufferedAtEnd);
        assertThat(audit.accounted(bertOutputs)).as("BERT stage outputs complete while GPT is slow: %s", whileSlow)
            .isTrue();
        assertThat(whileSlow.output("answered").received()).as("GPT answers while slow; %s", whileSlow)
            .isLessThan(whileSlow.routed() / 2);
        assertThat(maxQueued).as("requests waiting in the generator").isLessThanOrEqualTo(MAX_QUEUED);
        // Per task: the cap, plus one request per gpt.max.block.ms once at the cap.
        double bufferBound = PARTITIONS * (MAX_PENDING_PER_TASK + bertSeconds * 1000 / MAX_BLOCK_MS + 1);
        assertThat(maxBuffered).as("GPT requests buffered in memory and store").isPositive()
            .isLessThanOrEqualTo(bufferBound);
        assertThat(Math.max(maxLag, lagAtEnd)).as("GPT consumer lag on /metrics").isPositive();

        // 3. The delay ends: every routed input is answered exactly once.
        slowDecoder.slow = false;
        Tally tally = audit.awaitAccounted(Duration.ofMinutes(3));
        System.out.printf("SlowGptStageIT after the delay: %s; %s%n", tally, gpt.stage().counters().snapshot());
        assertThat(tally.exact()).as("%s", tally).isTrue();
        // Events 0, 2, 4, ... ask for a reply.
        assertThat(tally.output("answered").received()).isEqualTo(tally.routed()).isEqualTo((tally.sent() + 1) / 2);
      }
    }
  }

  private static String scrape(HttpClient http, URI uri) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** Sum of the samples of {@code name} with {@code stage="<stage>"} in a Prometheus text exposition (0 if none). */
  static double gauge(String exposition, String name, String stage) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\}\\s+(\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(exposition);
    double sum = 0;
    while (m.find()) {
      if (m.group(1).contains("stage=\"" + stage + "\"")) {
        double v = Double.parseDouble(m.group(2));
        if (Double.isFinite(v)) {
          sum += v;
        }
      }
    }
    return sum;
  }
}
