package io.nlpstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.app.KafkaClientSettings;
import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives one running enrichment service for {@code nlpstream bench}: produces text events to its
 * input topic, open loop (as fast as possible, or at fixed send times), while a consumer thread
 * watches the enriched and dead-letter topics and notes when each event comes out (matched by id).
 * Not thread-safe: one phase at a time.
 */
final class PipelineLoad {

  /** Capacity (saturated phase) and latency (paced phase, offered {@code pacedRate} records/s) of one mode. */
  record Result(Phase saturated, Phase paced, double pacedRate) {}

  /**
   * One measured phase.
   *
   * @param records          records sent (all came out, or the phase failed)
   * @param recordsPerSecond records / (last output seen - first send)
   * @param sendRate         records / (last send - first send): the rate actually offered
   * @param p50Ms            median produce-to-output latency
   * @param p99Ms            99th percentile produce-to-output latency
   */
  record Phase(int records, double recordsPerSecond, double sendRate, double p50Ms, double p99Ms) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final NlpstreamConfig config;
  private int phaseCounter;

  PipelineLoad(NlpstreamConfig config) {
    this.config = config;
  }

  /**
   * Sends {@code texts} and waits until each has come out of the enriched or dead-letter topic.
   *
   * @param ratePerSecond 0 = as fast as possible; else each record is sent at its fixed time
   * @throws CommandFailure if some records did not come out in time or were dead-lettered
   */
  Phase run(String name, List<String> texts, double ratePerSecond) {
    int n = texts.size();
    if (n == 0) {
      return new Phase(0, 0, 0, 0, 0);
    }
    String prefix = "bench-" + (++phaseCounter) + "-" + name + "-";
    long[] sent = new long[n];
    long[] seen = new long[n];
    AtomicInteger outstanding = new AtomicInteger(n);
    AtomicInteger deadLettered = new AtomicInteger();
    String enrichedTopic = config.getString(NlpstreamConfig.TOPIC_ENRICHED);
    String dlqTopic = config.getString(NlpstreamConfig.TOPIC_DLQ);

    try (TopicReader reader = new TopicReader(config, List.of(enrichedTopic, dlqTopic), true)) {
      Thread watcher = new Thread(() -> {
        while (outstanding.get() > 0 && !Thread.currentThread().isInterrupted()) {
          for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            String id = OutputRecords.text(OutputRecords.parse(r.value()), "id");
            if (id != null && id.startsWith(prefix)) {
              int i = Integer.parseInt(id.substring(prefix.length()));
              if (seen[i] == 0) {
                seen[i] = now;
                if (r.topic().equals(dlqTopic)) {
                  deadLettered.incrementAndGet();
                }
                outstanding.decrementAndGet();
              }
            }
          }
        }
      }, "nlpstream-bench-watcher");
      watcher.start();

      Map<String, Object> producerConfig = KafkaClientSettings.producer(config);
      producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
      producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, ratePerSecond > 0 ? 0 : 5);
      String inputTopic = config.getString(NlpstreamConfig.TOPIC_INPUT);
      try (KafkaProducer<byte[], byte[]> producer =
               new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
        long start = System.nanoTime();
        long intervalNanos = ratePerSecond > 0 ? (long) (1e9 / ratePerSecond) : 0;
        Progress progress = new Progress(name, n, outstanding, start);
        for (int i = 0; i < n; i++) {
          progress.show(i);
          if (intervalNanos > 0) {
            long due = start + i * intervalNanos;
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
              LockSupport.parkNanos(wait);
            }
          }
          byte[] value = event(prefix + i, texts.get(i));
          sent[i] = System.nanoTime();
          producer.send(new ProducerRecord<>(inputTopic, null, value));
        }
        producer.flush();
      }

      long timeoutNanos = TimeUnit.SECONDS.toNanos(120) + (long) (n * 1e9 / 20);
      long deadline = sent[n - 1] + timeoutNanos;
      Progress progress = new Progress(name, n, outstanding, sent[0]);
      while (outstanding.get() > 0 && System.nanoTime() < deadline && watcher.isAlive()) {
        progress.show(n);
        sleep(20);
      }
      watcher.interrupt();
      join(watcher);
      if (outstanding.get() > 0) {
        throw new CommandFailure("bench phase '" + name + "': " + outstanding.get() + " of " + n
            + " records did not come out of " + enrichedTopic + " or " + dlqTopic + " in time");
      }
      if (deadLettered.get() > 0) {
        throw new CommandFailure("bench phase '" + name + "': " + deadLettered.get() + " of " + n
            + " records were dead-lettered (see " + dlqTopic + "); bench inputs should all be valid");
      }
    }

    long firstSend = sent[0];
    long lastSend = Arrays.stream(sent).max().orElse(firstSend);
    long lastSeen = Arrays.stream(seen).max().orElse(firstSend);
    double[] latencyMs = new double[n];
    for (int i = 0; i < n; i++) {
      latencyMs[i] = (seen[i] - sent[i]) / 1e6;
    }
    Arrays.sort(latencyMs);
    Phase phase = new Phase(n, n / ((lastSeen - firstSend) / 1e9),
        n > 1 ? (n - 1) / ((lastSend - firstSend) / 1e9) : 0,
        percentile(latencyMs, 50), percentile(latencyMs, 99));
    System.err.printf(java.util.Locale.ROOT, "nlpstream bench: %s %s: %d records, %.1f records/s, p50 %.1f ms, p99 %.1f ms%n",
        config.getString(NlpstreamConfig.APPLICATION_ID), name, n, phase.recordsPerSecond(), phase.p50Ms(), phase.p99Ms());
    return phase;
  }

  private static byte[] event(String id, String text) {
    ObjectNode e = JSON.createObjectNode();
    e.put("id", id);
    e.put("text", text);
    e.put("source", "bench");
    try {
      return JSON.writeValueAsBytes(e);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** A progress line on stderr every few seconds while a phase sends and waits. Not thread-safe. */
  private final class Progress {
    private static final long EVERY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private final String phase;
    private final int total;
    private final AtomicInteger outstanding;
    private final long start;
    private long last;

    Progress(String phase, int total, AtomicInteger outstanding, long start) {
      this.phase = phase;
      this.total = total;
      this.outstanding = outstanding;
      this.start = start;
      this.last = System.nanoTime();
    }

    void show(int sentSoFar) {
      long now = System.nanoTime();
      if (now - last < EVERY_NANOS) {
        return;
      }
      last = now;
      System.err.printf(java.util.Locale.ROOT, "nlpstream bench: %s %s: sent %d/%d, %d out, after %.0f s%n",
          config.getString(NlpstreamConfig.APPLICATION_ID), phase, sentSoFar, total, total - outstanding.get(),
          (now - start) / 1e9);
    }
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void join(Thread t) {
    try {
      t.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
