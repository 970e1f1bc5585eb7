package io.nlpstream.topology;

import java.util.Arrays;
import java.util.Objects;

/**
 * One input record exactly as it was read: its coordinates and raw bytes. It is what the BERT
 * stage's buffer store keeps for every record in flight (the parsed event is re-derived from it
 * after a restart) and what a dead letter carries back, so that any record can be replayed.
 *
 * @param topic     input topic
 * @param partition input partition
 * @param offset    offset in that partition
 * @param timestamp the Kafka record timestamp (epoch ms)
 * @param key       the raw key, or null
 * @param value     the raw value, or null for a tombstone
 */
public record SourceRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {

  public SourceRecord {
    Objects.requireNonNull(topic, "topic");
  }

  /**
   * The id of an event that has none: {@code <topic>-<partition>-<offset>}, e.g. {@code text.in-0-42}.
   * Stable on replay, unique per input record.
   */
  public String derivedId() {
    return topic + "-" + partition + "-" + offset;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceRecord r && topic.equals(r.topic) && partition == r.partition && offset == r.offset
        && timestamp == r.timestamp && Arrays.equals(key, r.key) && Arrays.equals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, partition, offset);
  }

  @Override
  public String toString() {
    return "SourceRecord[" + derivedId() + ", " + (value == null ? "null" : value.length + " bytes") + "]";
  }
}
