package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationAppTest {

  @Test
  void aGptModelTheCatalogueLacksFailsNamingTheKeyAndTheKnownIds(@TempDir Path catalog) {
    GptBundles.writeTiny(catalog);
    NlpstreamConfig config = NlpstreamConfig.of(Map.of(NlpstreamConfig.MODEL_CATALOG_DIR, catalog.toString(),
        NlpstreamConfig.GPT_MODEL, "no-such-gpt"));
    assertThatThrownBy(() -> GenerationApp.openGenerator(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(NlpstreamConfig.GPT_MODEL)
        .hasMessageContaining("no-such-gpt")
        .hasMessageContaining(GptBundles.TINY)
        .hasMessageContaining(NlpstreamConfig.MODEL_CATALOG_DIR);
  }
}
