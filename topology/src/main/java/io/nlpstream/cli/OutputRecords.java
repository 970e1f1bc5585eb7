package io.nlpstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Reads the fields the command line shows from the pipeline's output records (formats in
 * {@code schemas/}: enriched event, dead letter, GPT request).
 */
final class OutputRecords {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Coordinates of the input record an output derives from. */
  record Coordinates(String topic, int partition, long offset) {}

  private OutputRecords() {}

  /** The value as JSON; a value that is not JSON (never written by nlpstream) becomes a JSON string. */
  static JsonNode parse(byte[] value) {
    if (value == null) {
      return com.fasterxml.jackson.databind.node.NullNode.getInstance();
    }
    try {
      return JSON.readTree(value);
    } catch (IOException e) {
      return TextNode.valueOf(new String(value, StandardCharsets.UTF_8));
    }
  }

  static Coordinates sourceOfEnriched(JsonNode enriched) {
    return coordinates(enriched.path("source_offset"));
  }

  static Coordinates sourceOfDeadLetter(JsonNode deadLetter) {
    return coordinates(deadLetter.path("source"));
  }

  private static Coordinates coordinates(JsonNode source) {
    if (!source.path("topic").isTextual() || !source.path("partition").canConvertToInt()
        || !source.path("offset").canConvertToLong()) {
      return null;
    }
    return new Coordinates(source.get("topic").asText(), source.get("partition").asInt(), source.get("offset").asLong());
  }

  static String text(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isValueNode() && !v.isNull() ? v.asText() : null;
  }

  /** {@code positive 0.97}. */
  static String sentiment(JsonNode enriched) {
    JsonNode s = enriched.path("sentiment");
    return s.path("label").asText("?") + String.format(Locale.ROOT, " %.2f", s.path("score").asDouble());
  }

  /** The highest-scoring class with its score. */
  static String topClass(JsonNode enriched) {
    JsonNode best = null;
    for (JsonNode c : enriched.path("classes")) {
      if (best == null || c.path("score").asDouble() > best.path("score").asDouble()) {
        best = c;
      }
    }
    return best == null ? "" : best.path("label").asText() + String.format(Locale.ROOT, " %.2f", best.path("score").asDouble());
  }

  /** {@code Angela Merkel/PER, Berlin/LOC}. */
  static String entities(JsonNode enriched) {
    return StreamSupport.stream(enriched.path("entities").spliterator(), false)
        .map(e -> e.path("text").asText() + "/" + e.path("type").asText())
        .collect(Collectors.joining(", "));
  }

  /**
   * The kind of the request a GPT-stage dead letter carries (decoded from its {@code value_base64}),
   * or {@code ?} when the request is not readable JSON.
   */
  static String kindOfDeadLetteredRequest(JsonNode deadLetter) {
    String value = text(deadLetter, "value_base64");
    if (value == null) {
      return "?";
    }
    JsonNode request = parse(java.util.Base64.getDecoder().decode(value));
    return request.isObject() ? kind(request) : "?";
  }

  /** What a GPT request asks for: {@code summary} or {@code reply}. */
  static String kind(JsonNode gptRequest) {
    String kind = text(gptRequest, "kind");
    return kind == null ? "?" : kind;
  }
}
