package io.nlpstream.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import io.nlpstream.app.KafkaClientSettings;
import io.nlpstream.config.NlpstreamConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads whole topics from the beginning, as committed (read_committed: what a downstream consumer
 * of an exactly-once pipeline sees), without a consumer group: partitions are assigned, nothing is
 * committed. Not thread-safe: one thread polls it. Closes its consumer on {@link #close()}.
 */
final class TopicReader implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<TopicPartition> partitions = new ArrayList<>();

  /**
   * A reader of {@code topics} of the cluster in {@code config}, positioned at their beginning, or
   * at their current end when {@code fromEnd} (it then returns only records committed after this
   * constructor returned).
   */
  TopicReader(NlpstreamConfig nlpstream, Collection<String> topics, boolean fromEnd) {
    Map<String, Object> config = KafkaClientSettings.consumer(nlpstream);
    String bootstrapServers = nlpstream.getString(NlpstreamConfig.BOOTSTRAP_SERVERS);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
    consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    for (String topic : topics) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        consumer.close();
        throw new IllegalStateException("topic " + topic + " does not exist on " + bootstrapServers);
      }
      infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
    }
    consumer.assign(partitions);
    if (fromEnd) {
      consumer.seekToEnd(partitions);
      // Seeks are lazy: resolve the end offsets now, not at the first poll.
      partitions.forEach(tp -> consumer.position(tp, Duration.ofSeconds(30)));
    } else {
      consumer.seekToBeginning(partitions);
    }
  }

  /** The records that arrived within {@code timeout} (possibly none). */
  List<ConsumerRecord<byte[], byte[]>> poll(Duration timeout) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    consumer.poll(timeout).forEach(out::add);
    return out;
  }

  /**
   * True when this reader has read up to the last stable offset of every partition: everything
   * committed so far has been returned by {@link #poll}.
   */
  boolean caughtUp() {
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
    for (TopicPartition tp : partitions) {
      if (consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
