package io.nlpstream.app;

import io.nlpstream.config.NlpstreamConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;

/**
 * Settings of the plain Kafka clients nlpstream opens next to Kafka Streams (topic creation, the
 * demo's producer and readers, the bench): {@code bootstrap.servers} plus those {@code kafka.*}
 * overrides that the client type knows (security settings, for example) and the config providers
 * ({@code kafka.config.providers*}, which resolve {@code ${file:...}} references), so that a
 * Streams-only key does not reach, and warn in, an admin client.
 */
public final class KafkaClientSettings {

  private static final String CONFIG_PROVIDERS_PREFIX = AbstractConfig.CONFIG_PROVIDERS_CONFIG + ".";

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
      // config.providers.<name>.class/.param.*: the providers that resolve ${file:...} references in secrets.
      if (known.contains(k) || k.startsWith(CONFIG_PROVIDERS_PREFIX)) {
        settings.put(k, v);
      }
    });
    settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS));
    return settings;
  }
}
