package io.nlpstream.faults;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces numbered input events to the input topic and tells a {@link DeliveryAudit} what each
 * <em>acknowledged</em> record must become. Record {@code n} is {@code mix.event(n)}; values are
 * bytes, no key (the default partitioner spreads them over the partitions).
 *
 * <p>The producer is idempotent ({@code acks=all}) and waits out broker outages: delivery and
 * blocking timeouts are 10 minutes, so a record is either acknowledged (and expected) or, after
 * that, reported as failed; a broker that is down for a while only delays acknowledgements. The
 * audit learns a record's key from its acknowledgement, so an invalid event whose dead letter is
 * keyed by input coordinates ({@code <topic>-<partition>-<offset>}) can be expected too.
 *
 * <p>Thread safety: {@link #send}, {@link #start} and {@link #stop} are called from one controlling
 * thread; {@link #start} adds one pacing thread of its own; the counters may be read from any
 * thread. Ownership: {@link #close()} stops the pacing thread and closes the producer (waiting for
 * acknowledgements); the audit stays open.
 */
public final class EventFeed implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EventFeed.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration PATIENCE = Duration.ofMinutes(10);

  /** What the pipeline must make of an input record. */
  public enum Outcome {
    /** One record in the enriched topic, none in the dead-letter topic. */
    ENRICHED,
    /** One record in the dead-letter topic, none in the enriched topic. */
    DEAD_LETTER
  }

  /**
   * One input event.
   *
   * @param id      the event id that the outputs carry; null when the parse step cannot read one,
   *                so that the dead letter is keyed by the input coordinates
   * @param value   the record value as produced
   * @param outcome what it must become
   * @param routed  true when it must also yield one GPT request (implies {@link Outcome#ENRICHED})
   */
  public record Event(String id, byte[] value, Outcome outcome, boolean routed) {
    public Event {
      Objects.requireNonNull(outcome, "outcome");
      if (routed && outcome != Outcome.ENRICHED) {
        throw new IllegalArgumentException("only an enriched event can be routed");
      }
    }
  }

  /** The event with sequence number {@code seq} (0, 1, 2, ...). Must be a pure function of {@code seq}. */
  @FunctionalInterface
  public interface Mix {
    Event event(long seq);
  }

  private static final String[] SENTENCES = {
      "The delivery from Berlin arrived two days late and support never answered.",
      "Great service at the hotel in Lisbon, the staff were friendly and helpful.",
      "Shares of Siemens rose after the quarterly report beat expectations.",
      "The match in Madrid ended in a draw after a late penalty.",
      "Researchers at MIT published a new method for training small language models.",
      "My order number is still missing and I would like a refund, please.",
      "The city council of Oslo approved the new bicycle lanes on Monday.",
      "Apple opened a new office in London with two hundred engineers.",
  };

  /**
   * The mix of the soak and of the fault tests, ids {@code <prefix>-<seq>}: of every 10 events, 8
   * valid plain events, 1 valid event with a {@code task} (routed to the GPT stage), 1 invalid one
   * (alternately a wrong type, dead-lettered by the parse step with the event's coordinates as key,
   * and bytes that are not JSON). Texts are short sentences (~20 tokens). Requires
   * {@code routing.rules} empty, so that only the events with a task are routed.
   */
  public static Mix standardMix(String prefix) {
    return seq -> {
      String id = prefix + "-" + seq;
      String text = SENTENCES[(int) (seq % SENTENCES.length)] + " (event " + seq + ")";
      switch ((int) (seq % 10)) {
        case 4:
          return new Event(id, json("id", id, "source", "soak", "task", seq % 20 == 4 ? "summary" : "reply",
              "text", text), Outcome.ENRICHED, true);
        case 9:
          byte[] bad = seq % 20 == 9
              ? json("id", id, "source", "soak", "text", seq)
              : (id + " is not JSON {").getBytes(StandardCharsets.UTF_8);
          return new Event(null, bad, Outcome.DEAD_LETTER, false);
        default:
          return new Event(id, json("id", id, "source", "soak", "text", text), Outcome.ENRICHED, false);
      }
    };
  }

  /** Valid plain events only, ids {@code <prefix>-<seq>}: each must be enriched, none routed. */
  public static Mix validMix(String prefix) {
    return seq -> {
      String id = prefix + "-" + seq;
      return new Event(id, json("id", id, "source", "soak",
          "text", SENTENCES[(int) (seq % SENTENCES.length)] + " (event " + seq + ")"), Outcome.ENRICHED, false);
    };
  }

  /** A JSON object of the given name/value pairs, as UTF-8 bytes. */
  public static byte[] json(Object... fields) {
    ObjectNode n = JSON.createObjectNode();
    for (int i = 0; i < fields.length; i += 2) {
      n.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
    }
    try {
      return JSON.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write the event as JSON", e);
    }
  }

  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final Mix mix;
  private final DeliveryAudit audit;
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong acknowledged = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicReference<Exception> firstFailure = new AtomicReference<>();
  private volatile boolean pacing;
  private Thread pacer;

  /**
   * @param clientSettings Kafka client settings ({@code bootstrap.servers}, security); the feed adds
   *                       its producer settings
   */
  public EventFeed(Map<String, Object> clientSettings, String topic, Mix mix, DeliveryAudit audit) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.mix = Objects.requireNonNull(mix, "mix");
    this.audit = Objects.requireNonNull(audit, "audit");
    Map<String, Object> config = new HashMap<>(clientSettings);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) PATIENCE.toMillis());
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, PATIENCE.toMillis());
    config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Sends the next {@code n} events as fast as the producer takes them and waits for their acknowledgements. */
  public void send(int n) {
    for (int i = 0; i < n; i++) {
      sendNext();
    }
    producer.flush();
  }

  /**
   * Starts sending at {@code perSecond} events per second on a thread of its own, until
   * {@link #stop()}. A send that blocks (broker away, buffer full) delays the following ones; the
   * pace does not catch up in a burst afterwards.
   */
  public synchronized void start(double perSecond) {
    if (pacer != null) {
      throw new IllegalStateException("already sending");
    }
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("rate must be > 0: " + perSecond);
    }
    long periodNanos = (long) (TimeUnit.SECONDS.toNanos(1) / perSecond);
    pacing = true;
    pacer = new Thread(() -> {
      long due = System.nanoTime();
      while (pacing) {
        long wait = due - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          continue;
        }
        sendNext();
        due = Math.max(due + periodNanos, System.nanoTime());
      }
    }, "nlpstream-event-feed");
    pacer.setDaemon(true);
    pacer.start();
  }

  /** Stops the pacing thread (if any) and waits until every record sent so far is acknowledged or failed. */
  public synchronized void stop() {
    pacing = false;
    if (pacer != null) {
      try {
        pacer.join(PATIENCE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping the feed", e);
      }
      pacer = null;
    }
    producer.flush();
  }

  private void sendNext() {
    long seq = next.getAndIncrement();
    Event event = mix.event(seq);
    producer.send(new ProducerRecord<>(topic, null, event.value()), (metadata, error) -> {
      if (error != null) {
        failed.incrementAndGet();
        firstFailure.compareAndSet(null, error);
        LOG.warn("event {} not acknowledged: {}", seq, error.toString());
        return;
      }
      String key = event.id() != null ? event.id() : metadata.topic() + "-" + metadata.partition() + "-" + metadata.offset();
      audit.expect(key, event.outcome(), event.routed());
      acknowledged.incrementAndGet();
    });
  }

  /** Events handed to the producer so far. */
  public long sent() {
    return next.get();
  }

  /** Events the broker acknowledged (each one is expected by the audit). */
  public long acknowledged() {
    return acknowledged.get();
  }

  /** Events that failed for good (not written, or not known to be: they are not expected). */
  public long failed() {
    return failed.get();
  }

  /** The first send failure, if any. */
  public Exception firstFailure() {
    return firstFailure.get();
  }

  @Override
  public void close() {
    try {
      stop();
    } finally {
      producer.close(PATIENCE);
    }
  }
}
