package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The input schema says what the parser accepts: sample valid inputs pass both, and invalid ones
 * fail both (the parser's byte-level checks, UTF-8 and size, are outside what a schema can say).
 */
class SchemaSamplesTest {

  private final TextEventParser parser = new TextEventParser(256 * 1024, 32);

  private ParseResult parse(String json) {
    return parser.parse(new SourceRecord("text.in", 0, 0, 0, null, json.getBytes(StandardCharsets.UTF_8)));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"text\":\"hello\"}",
      "{\"text\":\"hello\",\"id\":\"e-1\",\"source\":\"chat\",\"lang\":\"en\",\"task\":\"reply\",\"metadata\":{\"a\":[1]}}",
      "{\"text\":\"hello\",\"timestamp\":1714564800000}",
      "{\"text\":\"hello\",\"timestamp\":\"2024-05-01T12:00:00Z\"}",
      "{\"text\":\"hello\",\"timestamp\":\"2024-05-01T14:00:00.123+02:00\"}",
      "{\"text\":\"hello\",\"id\":null,\"task\":null,\"metadata\":null,\"timestamp\":null}",
      "{\"text\":\"hello\",\"extra\":{\"ignored\":true}}"})
  void validSamplesPassTheSchemaAndTheParser(String json) {
    assertThat(RecordSchemas.errors(RecordSchemas.TEXT_EVENT, json.getBytes(StandardCharsets.UTF_8))).isEmpty();
    assertThat(parse(json)).isInstanceOf(ParseResult.Accepted.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{}",
      "{\"text\":null}",
      "{\"text\":\"\"}",
      "{\"text\":\"   \"}",
      "{\"text\":42}",
      "{\"text\":\"a\",\"id\":\"\"}",
      "{\"text\":\"a\",\"id\":5}",
      "{\"text\":\"a\",\"source\":1}",
      "{\"text\":\"a\",\"task\":\"poem\"}",
      "{\"text\":\"a\",\"metadata\":[]}",
      "{\"text\":\"a\",\"timestamp\":\"yesterday\"}",
      "{\"text\":\"a\",\"timestamp\":1.5}",
      "[{\"text\":\"a\"}]",
      "\"text\""})
  void invalidSamplesFailTheSchemaAndTheParser(String json) {
    assertThat(RecordSchemas.errors(RecordSchemas.TEXT_EVENT, json.getBytes(StandardCharsets.UTF_8))).isNotEmpty();
    assertThat(parse(json)).isInstanceOf(ParseResult.Rejected.class);
  }
}
