package io.nlpstream.topology;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.topology.ParseResult.Accepted;
import io.nlpstream.topology.ParseResult.Rejected;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Turns the raw bytes of an input record into a {@link TextEvent} or a typed rejection, in this
 * order, so that each bad input gets exactly one, stable reason:
 * <ol>
 *   <li>null value (tombstone): {@code not_json};</li>
 *   <li>byte length over {@code max.input.bytes}: {@code too_large}, before anything else is done;</li>
 *   <li>strict UTF-8 decoding (malformed or truncated sequences are reported, never replaced):
 *       {@code invalid_utf8};</li>
 *   <li>JSON parsing under {@link StreamReadConstraints} (nesting depth {@code max.input.nesting.depth},
 *       numbers of at most {@value #MAX_NUMBER_LENGTH} characters): {@code too_large} over a limit,
 *       {@code not_json} for a syntax error, an empty value, a duplicate field or trailing data;</li>
 *   <li>{@code not_object}, then the fields: {@code missing_text}, {@code wrong_type},
 *       {@code too_large} (text longer than {@code max.text.chars}, checked before any other work on
 *       the text), {@code empty_text} (blank), {@code invalid_utf8} (an unpaired surrogate from a
 *       {@code \\uD800} escape), {@code invalid_value}.</li>
 * </ol>
 *
 * <p>Field rules (see {@code schemas/text-event.schema.json}): {@code text} required non-blank string;
 * {@code id} optional non-blank string, else {@link SourceRecord#derivedId()}; {@code source},
 * {@code lang} optional strings; {@code task} optional {@code summary|reply}; {@code metadata} optional
 * object; {@code timestamp} optional, either an integer (epoch milliseconds) or an ISO-8601 date-time
 * with an offset ({@code 2024-05-01T12:00:00Z}, {@code 2024-05-01T14:00:00+02:00}). JSON null counts
 * as absent. Unknown fields are ignored (producers put their own data in {@code metadata}).
 *
 * <p>Thread-safe and stateless: one instance serves every stream task.
 */
public final class TextEventParser {

  static final int MAX_NUMBER_LENGTH = 100;
  /** Range of accepted event timestamps: what RFC 3339 (four-digit years) can write. */
  static final Instant MIN_TIMESTAMP = Instant.parse("0000-01-01T00:00:00Z");
  static final Instant MAX_TIMESTAMP = Instant.parse("9999-12-31T23:59:59.999Z");

  private final int maxInputBytes;
  private final int maxTextChars;
  private final ObjectMapper mapper;

  /** A parser without a text length limit beyond {@code maxInputBytes}. */
  public TextEventParser(int maxInputBytes, int maxNestingDepth) {
    this(maxInputBytes, maxNestingDepth, Integer.MAX_VALUE);
  }

  /**
   * @param maxInputBytes   largest value in bytes ({@code max.input.bytes})
   * @param maxNestingDepth deepest JSON nesting ({@code max.input.nesting.depth})
   * @param maxTextChars    longest {@code text} in UTF-16 chars ({@code max.text.chars})
   */
  public TextEventParser(int maxInputBytes, int maxNestingDepth, int maxTextChars) {
    if (maxInputBytes < 1 || maxTextChars < 1) {
      throw new IllegalArgumentException("maxInputBytes and maxTextChars must be >= 1, were " + maxInputBytes
          + " and " + maxTextChars);
    }
    this.maxInputBytes = maxInputBytes;
    this.maxTextChars = maxTextChars;
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(maxNestingDepth)
            .maxNumberLength(MAX_NUMBER_LENGTH)
            .maxStringLength(maxInputBytes)
            .maxDocumentLength(maxInputBytes)
            .build())
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    this.mapper = new ObjectMapper(factory)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        // metadata passes through: keep decimals exactly as written (no binary floating point, 1.10 stays 1.10)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
  }

  public static TextEventParser from(NlpstreamConfig config) {
    return new TextEventParser(config.getInt(NlpstreamConfig.MAX_INPUT_BYTES),
        config.getInt(NlpstreamConfig.MAX_INPUT_NESTING_DEPTH), config.getInt(NlpstreamConfig.MAX_TEXT_CHARS));
  }

  public ParseResult parse(SourceRecord record) {
    JsonObject read = readObject(record);
    return read.rejected() != null ? read.rejected() : validate(read.object(), record);
  }

  /** The JSON object of a record value, or why there is none (exactly one of the two is set). */
  record JsonObject(ObjectNode object, Rejected rejected) {}

  /**
   * Steps 1 to 5 of the class comment up to {@code not_object}: size, UTF-8, JSON, object. Shared
   * with the GPT stage's request parser, which validates other fields.
   */
  JsonObject readObject(SourceRecord record) {
    byte[] bytes = record.value();
    if (bytes == null) {
      return rejected(DeadLetterReason.NOT_JSON, "value is null (a tombstone); expected a JSON object");
    }
    if (bytes.length > maxInputBytes) {
      return rejected(DeadLetterReason.TOO_LARGE,
          "value is " + bytes.length + " bytes, over " + NlpstreamConfig.MAX_INPUT_BYTES + "=" + maxInputBytes);
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      return rejected(DeadLetterReason.INVALID_UTF8,
          "invalid UTF-8: " + result.length() + " bad byte(s) at byte offset " + in.position());
    }
    out.flip();

    JsonNode root;
    try {
      root = mapper.readTree(out.toString());
    } catch (StreamConstraintsException e) {
      return rejected(DeadLetterReason.TOO_LARGE, describe(e));
    } catch (JsonProcessingException e) {
      return rejected(DeadLetterReason.NOT_JSON, describe(e));
    }
    if (root == null || root.isMissingNode()) {
      return rejected(DeadLetterReason.NOT_JSON, "value is empty or only whitespace");
    }
    if (!root.isObject()) {
      return rejected(DeadLetterReason.NOT_OBJECT, "expected a JSON object, got " + typeName(root));
    }
    return new JsonObject((ObjectNode) root, null);
  }

  private static JsonObject rejected(DeadLetterReason reason, String message) {
    return new JsonObject(null, new Rejected(reason, message));
  }

  private ParseResult validate(ObjectNode obj, SourceRecord record) {
    JsonNode text = present(obj, "text");
    Rejected badText = checkText(text);
    if (badText != null) {
      return badText;
    }
    String textValue = text.textValue();

    String id = record.derivedId();
    JsonNode idNode = present(obj, "id");
    if (idNode != null) {
      if (!idNode.isTextual()) {
        return wrongType("id", "a string", idNode);
      }
      if (idNode.textValue().isBlank()) {
        return new Rejected(DeadLetterReason.INVALID_VALUE, "field 'id' is blank");
      }
      id = idNode.textValue();
    }
    String[] strings = new String[2];
    String[] names = {"source", "lang"};
    for (int i = 0; i < names.length; i++) {
      JsonNode node = present(obj, names[i]);
      if (node != null && !node.isTextual()) {
        return wrongType(names[i], "a string", node);
      }
      strings[i] = node == null ? null : node.textValue();
    }
    Task task = null;
    JsonNode taskNode = present(obj, "task");
    if (taskNode != null) {
      if (!taskNode.isTextual()) {
        return wrongType("task", "a string", taskNode);
      }
      Optional<Task> parsed = Task.ofCode(taskNode.textValue());
      if (parsed.isEmpty()) {
        return new Rejected(DeadLetterReason.INVALID_VALUE,
            "field 'task' is '" + abbreviate(taskNode.textValue()) + "'; expected summary or reply");
      }
      task = parsed.get();
    }
    JsonNode metadata = present(obj, "metadata");
    if (metadata != null && !metadata.isObject()) {
      return wrongType("metadata", "an object", metadata);
    }
    Instant timestamp = null;
    JsonNode ts = present(obj, "timestamp");
    if (ts != null) {
      if (ts.isIntegralNumber() && ts.canConvertToLong()) {
        timestamp = Instant.ofEpochMilli(ts.longValue());
      } else if (ts.isTextual()) {
        try {
          timestamp = OffsetDateTime.parse(ts.textValue()).toInstant();
        } catch (DateTimeParseException e) {
          return new Rejected(DeadLetterReason.INVALID_VALUE, "field 'timestamp' is '" + abbreviate(ts.textValue())
              + "'; expected an ISO-8601 date-time with offset, e.g. 2024-05-01T12:00:00Z");
        }
      } else {
        return wrongType("timestamp", "an integer (epoch ms) or an ISO-8601 string", ts);
      }
      // Outputs carry it as an RFC 3339 date-time, which has four-digit years.
      if (timestamp.isBefore(MIN_TIMESTAMP) || timestamp.isAfter(MAX_TIMESTAMP)) {
        return new Rejected(DeadLetterReason.INVALID_VALUE, "field 'timestamp' is " + timestamp
            + ", outside the years 0000-9999");
      }
    }
    return new Accepted(new TextEvent(id, textValue, strings[0], strings[1], task, (ObjectNode) metadata, timestamp));
  }

  /**
   * Why {@code text} (the node of field {@code text}, null when absent) is not a valid text, or null
   * when it is: {@code missing_text}, {@code wrong_type}, {@code too_large} (over
   * {@code max.text.chars}, checked before any other work on the text), {@code empty_text},
   * {@code invalid_utf8}. Shared with the GPT stage's request parser.
   */
  Rejected checkText(JsonNode text) {
    if (text == null) {
      return new Rejected(DeadLetterReason.MISSING_TEXT, "field 'text' is missing or null");
    }
    if (!text.isTextual()) {
      return wrongType("text", "a string", text);
    }
    String textValue = text.textValue();
    if (textValue.length() > maxTextChars) {
      return new Rejected(DeadLetterReason.TOO_LARGE, "field 'text' is " + textValue.length() + " chars, over "
          + NlpstreamConfig.MAX_TEXT_CHARS + "=" + maxTextChars);
    }
    if (textValue.isBlank()) {
      return new Rejected(DeadLetterReason.EMPTY_TEXT,
          textValue.isEmpty() ? "field 'text' is empty" : "field 'text' holds only whitespace");
    }
    int surrogate = unpairedSurrogate(textValue);
    if (surrogate >= 0) {
      return new Rejected(DeadLetterReason.INVALID_UTF8, "field 'text' holds an unpaired UTF-16 surrogate at char "
          + surrogate + " (a \\uD800-\\uDFFF escape); it has no UTF-8 form");
    }
    return null;
  }

  /** The field's node, or null when it is absent or JSON null. */
  static JsonNode present(ObjectNode obj, String field) {
    JsonNode node = obj.get(field);
    return node == null || node.isNull() ? null : node;
  }

  static Rejected wrongType(String field, String expected, JsonNode actual) {
    return new Rejected(DeadLetterReason.WRONG_TYPE,
        "field '" + field + "' must be " + expected + ", got " + typeName(actual));
  }

  private static String typeName(JsonNode node) {
    JsonNodeType type = node.getNodeType();
    return switch (type) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> node.isIntegralNumber() ? "an integer" : "a decimal number";
      case BOOLEAN -> "a boolean";
      default -> type.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /** Index of the first unpaired surrogate, or -1. */
  static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  private static String describe(JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return e.getOriginalMessage() + where;
  }

  static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
