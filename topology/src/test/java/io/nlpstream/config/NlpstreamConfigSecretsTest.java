package io.nlpstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Secret values never leave the configuration object in anything printable. */
class NlpstreamConfigSecretsTest {

  private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required"
      + " username=\"nlp\" password=\"s3cr3t-jaas-Pw\";";

  @Test
  void secretKeysAreRecognised() {
    for (String key : new String[] {"kafka.sasl.jaas.config", "kafka.ssl.truststore.password",
        "kafka.ssl.key.password", "kafka.ssl.keystore.key", "kafka.ssl.truststore.certificates",
        "kafka.sasl.oauthbearer.client.credentials.client.secret", "kafka.some.custom.token"}) {
      assertThat(NlpstreamConfig.isSecret(key)).as(key).isTrue();
    }
    for (String key : new String[] {"kafka.security.protocol", "kafka.sasl.mechanism",
        "kafka.ssl.truststore.location", "bootstrap.servers", "batch.max.tokens", "routing.rules"}) {
      assertThat(NlpstreamConfig.isSecret(key)).as(key).isFalse();
    }
  }

  @Test
  void effectiveValuesAndToStringMaskSecretsAndKeepTheRest() {
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(
        "kafka.sasl.jaas.config", JAAS,
        "kafka.ssl.truststore.password", "truststore-Pw-123",
        "kafka.security.protocol", "SASL_SSL",
        "kafka.ssl.truststore.location", "/etc/nlpstream/truststore.p12",
        "batch.max.size", "7"));

    Map<String, String> values = config.effectiveValues();
    assertThat(values).containsEntry("kafka.sasl.jaas.config", NlpstreamConfig.MASK)
        .containsEntry("kafka.ssl.truststore.password", NlpstreamConfig.MASK)
        .containsEntry("kafka.security.protocol", "SASL_SSL")
        .containsEntry("batch.max.size", "7")
        .containsEntry("metrics.bind.address", "127.0.0.1")
        .containsKeys(NlpstreamConfig.CONFIG.names().toArray(String[]::new));
    // Masked but still passed to Kafka as given.
    assertThat(config.kafkaOverrides()).containsEntry("sasl.jaas.config", JAAS);
    assertThat(config.toString()).doesNotContain("s3cr3t-jaas-Pw").doesNotContain("truststore-Pw-123")
        .contains("SASL_SSL");
  }

  @Test
  void secretsComeFromTheEnvironmentByName() {
    NlpstreamConfig config = NlpstreamConfig.load(null, Map.of("NLPSTREAM_KAFKA_SASL_JAAS_CONFIG", JAAS,
        "NLPSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "NLPSTREAM_LOG_FORMAT", "json",
        "NLPSTREAM_LOG_LEVEL", "debug", "NLPSTREAM_JAVA_OPTS", "-Xmx1g"), Map.of());
    assertThat(config.kafkaOverrides()).containsEntry("sasl.jaas.config", JAAS)
        .containsEntry("security.protocol", "SASL_PLAINTEXT");
    assertThat(config.toString()).doesNotContain("s3cr3t-jaas-Pw");
  }

  @Test
  void anUnknownKeyIsNamedButItsValueIsNotShown() {
    // A forgotten 'kafka.' prefix: the value is a secret, the message must not carry it.
    assertThatThrownBy(() -> NlpstreamConfig.of(Map.of("sasl.jaas.config", JAAS)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sasl.jaas.config")
        .hasMessageNotContaining("s3cr3t-jaas-Pw");
  }
}
