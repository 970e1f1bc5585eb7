package io.nlpstream.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.faults.EventFeed.Outcome;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Counts, by event id, what the pipeline wrote, and compares it with what it had to write. The
 * {@link EventFeed} declares each acknowledged input ({@link #expect}); the audit reads the enriched,
 * dead-letter and GPT request topics from their beginning with {@code isolation.level=read_committed}
 * (what a downstream consumer of an exactly-once pipeline sees: aborted transactions never show) and
 * counts each record under its event id: {@code id} of enriched records and dead letters (for a
 * record the parse step could not read, {@code <topic>-<partition>-<offset>}), {@code input_id} of
 * GPT requests.
 *
 * <p>Per output: <b>lost</b> = expected keys with no record; <b>duplicated</b> = records beyond the
 * first for an expected key; <b>unexpected</b> = records whose key was not expected there (e.g. a
 * valid event dead-lettered, or an output of no acknowledged input).
 *
 * <p>Thread safety: {@link #expect} may be called from any thread (the producer's callbacks); every
 * other method from one thread, the one that polls. Ownership: {@link #close()} closes its consumer.
 */
public final class DeliveryAudit implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofMillis(200);

  /** The outputs the audit checks. */
  public enum Output {
    ENRICHED("enriched", "id"),
    DEAD_LETTER("dlq", "id"),
    ROUTED("routed", "input_id"),
    /** The GPT stage's summaries and replies (audited only when their topics are given). */
    ANSWERED("answered", "input_id");

    private final String label;
    final String keyField;

    Output(String label, String keyField) {
      this.label = label;
      this.keyField = keyField;
    }

    /** Short name: enriched, dlq, routed. */
    public String label() {
      return label;
    }
  }

  private final Map<Output, String> topics = new EnumMap<>(Output.class);
  private final Map<String, Output> outputOfTopic = new HashMap<>();
  private final OutputLedger ledger = new OutputLedger();
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<TopicPartition> partitions = new ArrayList<>();

  /**
   * Opens a consumer (no group, nothing committed) on the three topics, which must exist.
   *
   * @param clientSettings Kafka client settings ({@code bootstrap.servers}, security)
   */
  public DeliveryAudit(Map<String, Object> clientSettings, String enrichedTopic, String deadLetterTopic,
                       String gptRequestTopic) {
    this(clientSettings, enrichedTopic, deadLetterTopic, gptRequestTopic, List.of());
  }

  /**
   * Also audits the GPT stage's outputs ({@link Output#ANSWERED}): each routed input must get exactly
   * one record, by {@code input_id}, in one of {@code answerTopics} (summaries, replies).
   */
  public DeliveryAudit(Map<String, Object> clientSettings, String enrichedTopic, String deadLetterTopic,
                       String gptRequestTopic, List<String> answerTopics) {
    topics.put(Output.ENRICHED, Objects.requireNonNull(enrichedTopic, "enrichedTopic"));
    topics.put(Output.DEAD_LETTER, Objects.requireNonNull(deadLetterTopic, "deadLetterTopic"));
    topics.put(Output.ROUTED, Objects.requireNonNull(gptRequestTopic, "gptRequestTopic"));
    topics.forEach((output, topic) -> outputOfTopic.put(topic, output));
    if (!answerTopics.isEmpty()) {
      topics.put(Output.ANSWERED, String.join("+", answerTopics));
      answerTopics.forEach(t -> outputOfTopic.put(t, Output.ANSWERED));
    }
    Map<String, Object> config = new HashMap<>(clientSettings);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    try {
      for (String topic : outputOfTopic.keySet()) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(60));
        if (infos == null || infos.isEmpty()) {
          throw new IllegalStateException("topic " + topic + " does not exist");
        }
        infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /** Declares an acknowledged input: its key (event id, or coordinates) and what it must become. */
  public void expect(String key, Outcome outcome, boolean routed) {
    ledger.expect(key, outcome, routed);
  }

  /** Inputs declared so far. */
  public int expectedInputs() {
    return ledger.expectedInputs();
  }

  /** Reads what arrived within {@code timeout}; returns the number of records read. */
  public int poll(Duration timeout) {
    int n = 0;
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
      ledger.record(outputOfTopic.get(r.topic()), parse(r.value()));
      n++;
    }
    return n;
  }

  /** True when every expected output has arrived at least once (duplicates may still be hidden). */
  public boolean accounted() {
    return ledger.accounted(topics.keySet());
  }

  /** True when every expected output of {@code outputs} has arrived at least once. */
  public boolean accounted(Set<Output> outputs) {
    return ledger.accounted(outputs);
  }

  /** Records read so far from {@code output} (duplicates and unexpected ones included). */
  public int received(Output output) {
    return ledger.received(output);
  }

  /** The records read so far from {@code output}, parsed, in reading order. */
  public List<JsonNode> records(Output output) {
    return ledger.records(output);
  }

  /**
   * Polls until every expected output has arrived or {@code timeout} passes, then reads on up to the
   * last stable offset of every partition (so that duplicates committed so far show), and returns the
   * tally. Call it once the inputs are all acknowledged.
   */
  public Tally awaitAccounted(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!accounted() && System.nanoTime() - deadline < 0) {
      poll(POLL);
    }
    return readToEnd(Duration.ofMinutes(1));
  }

  /** Reads up to the last stable offset of every partition (as of this call), then tallies. */
  public Tally readToEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<TopicPartition, Long> end = null;
    while (end == null) {
      try {
        end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      } catch (TimeoutException e) {
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
      }
    }
    while (System.nanoTime() - deadline < 0 && !reached(end)) {
      poll(POLL);
    }
    return tally();
  }

  private boolean reached(Map<TopicPartition, Long> end) {
    for (TopicPartition tp : partitions) {
      if (consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  /** The counts as of now. */
  public Tally tally() {
    return ledger.tally(topics);
  }

  @Override
  public void close() {
    consumer.close();
  }

  private static JsonNode parse(byte[] value) {
    try {
      return value == null ? JSON.nullNode() : JSON.readTree(value);
    } catch (IOException e) {
      // An output that is not JSON is a bug of the pipeline: count it under no key, visibly.
      return JSON.createObjectNode().put("unparseable", e.getMessage());
    }
  }
}
