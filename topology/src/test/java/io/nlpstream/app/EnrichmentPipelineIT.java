package io.nlpstream.app;

import io.nlpstream.broker.EmbeddedKafkaBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The pipeline checks of {@link AbstractEnrichmentPipelineIT} on the embedded KRaft broker. */
class EnrichmentPipelineIT extends AbstractEnrichmentPipelineIT {

  private static EmbeddedKafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Override
  protected String bootstrapServers() {
    return broker.bootstrapServers();
  }
}
