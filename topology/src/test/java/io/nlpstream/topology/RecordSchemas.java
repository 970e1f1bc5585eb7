package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The repository's JSON Schemas ({@code ../schemas} from the module), validated with format assertions on. */
final class RecordSchemas {

  static final String TEXT_EVENT = "text-event";
  static final String ENRICHED_EVENT = "enriched-event";
  static final String DEAD_LETTER = "dead-letter";
  static final String GPT_REQUEST = "gpt-request";
  static final String GENERATION = "generation";

  static final Path DIR = Path.of("..", "schemas");
  /** Reads decimals exactly, so that tests can check that numbers pass through unchanged. */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
  private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
      b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));
  private static final Map<String, Schema> SCHEMAS = new ConcurrentHashMap<>();

  private RecordSchemas() {}

  static Schema schema(String name) {
    return SCHEMAS.computeIfAbsent(name, n -> {
      try (InputStream in = Files.newInputStream(DIR.resolve(n + ".schema.json"))) {
        return REGISTRY.getSchema(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  static List<Error> errors(String name, JsonNode node) {
    return schema(name).validate(node);
  }

  static List<Error> errors(String name, byte[] json) {
    try {
      return errors(name, JSON.readTree(json));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode assertValid(String name, byte[] json) {
    JsonNode node;
    try {
      node = JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(errors(name, node)).as("%s must satisfy %s.schema.json", node, name).isEmpty();
    return node;
  }
}
