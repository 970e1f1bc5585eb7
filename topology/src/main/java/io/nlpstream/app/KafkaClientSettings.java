package io.nlpstream.app;

import io.nlpstream.config.NlpstreamConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Settings of the plain Kafka clients nlpstream opens next to Kafka Streams (topic creation, the
 * demo's producer and readers, the bench): {@code bootstrap.servers} plus those {@code kafka.*}
 * overrides that the client type knows (security settings, for example), so that a
 * Streams-only key does not reach, and warn in, an admin client.
 */
public final class KafkaClientSettings {

  private KafkaClientSettings() {}

  public static Map<String, Object> admin(NlpstreamConfig config) {
    return of(config, AdminClientConfig.configNames());
  }

  public static Map<String, Object> producer(NlpstreamConfig config) {
    return of(config, ProducerConfig.configNames());
  }

  public static Map<String, Object> consumer(NlpstreamConfig config) {
    return of(config, ConsumerConfig.configNames());
  }

  private static Map<String, Object> of(NlpstreamConfig config, Set<String> known) {
    Map<String, Object> settings = new HashMap<>();
    config.kafkaOverrides().forEach((k, v) -> {
      if (known.contains(k)) {
        settings.put(k, v);
      }
    });
    settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS));
    return settings;
  }
}
