package io.nlpstream.app;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The pipeline checks of {@link AbstractEnrichmentPipelineIT} on Apache Kafka in a container
 * (Testcontainers). Skipped where there is no Docker; {@link EnrichmentPipelineIT} runs the same
 * checks on the embedded broker everywhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class EnrichmentPipelineContainerIT extends AbstractEnrichmentPipelineIT {

  @Container
  static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

  @Override
  protected String bootstrapServers() {
    return KAFKA.getBootstrapServers();
  }
}
