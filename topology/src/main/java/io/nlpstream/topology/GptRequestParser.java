package io.nlpstream.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.topology.ParseResult.Rejected;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads a record of the GPT requests topic into a {@link GenerationInput}, or a typed rejection for
 * the dead-letter topic. The value is checked as the BERT stage checks its inputs ({@link
 * TextEventParser#readObject}: {@code not_json}, {@code too_large}, {@code invalid_utf8},
 * {@code not_object}), then the fields:
 * <ul>
 *   <li>{@code input_id}: required non-blank string; absent or blank: {@code invalid_value}, not a
 *       string: {@code wrong_type};</li>
 *   <li>{@code kind}: required, {@code summary} or {@code reply}; anything else {@code invalid_value};</li>
 *   <li>{@code text}: as the input's text ({@code missing_text}, {@code wrong_type},
 *       {@code too_large} over {@code max.text.chars}, {@code empty_text}, {@code invalid_utf8});</li>
 *   <li>{@code routed_by}, {@code timestamp}: optional strings ({@code wrong_type} otherwise).</li>
 * </ul>
 * Other fields of the schema (sentiment, classes, metadata, ...) are not needed to generate and are
 * not checked; unknown fields are ignored.
 *
 * <p>Thread-safe and stateless.
 */
public final class GptRequestParser {

  /** The outcome of reading one request record. */
  public sealed interface Result {
    /** A request to generate for. */
    record Valid(GenerationInput input) implements Result {}

    /** Not a valid request: why. */
    record Invalid(Rejected rejection) implements Result {}
  }

  private final TextEventParser reader;

  public GptRequestParser(TextEventParser reader) {
    this.reader = Objects.requireNonNull(reader, "reader");
  }

  /** Limits of {@code max.input.bytes}, {@code max.input.nesting.depth} and {@code max.text.chars}, as for input events. */
  public static GptRequestParser from(NlpstreamConfig config) {
    return new GptRequestParser(TextEventParser.from(config));
  }

  public Result parse(SourceRecord record) {
    TextEventParser.JsonObject read = reader.readObject(record);
    if (read.rejected() != null) {
      return new Result.Invalid(read.rejected());
    }
    ObjectNode obj = read.object();
    JsonNode id = TextEventParser.present(obj, "input_id");
    if (id == null) {
      return invalid(DeadLetterReason.INVALID_VALUE, "field 'input_id' is missing or null");
    }
    if (!id.isTextual()) {
      return new Result.Invalid(TextEventParser.wrongType("input_id", "a string", id));
    }
    if (id.textValue().isBlank()) {
      return invalid(DeadLetterReason.INVALID_VALUE, "field 'input_id' is blank");
    }
    JsonNode kindNode = TextEventParser.present(obj, "kind");
    if (kindNode == null) {
      return invalid(DeadLetterReason.INVALID_VALUE, "field 'kind' is missing or null; expected summary or reply");
    }
    if (!kindNode.isTextual()) {
      return new Result.Invalid(TextEventParser.wrongType("kind", "a string", kindNode));
    }
    Optional<Task> kind = Task.ofCode(kindNode.textValue());
    if (kind.isEmpty()) {
      return invalid(DeadLetterReason.INVALID_VALUE, "field 'kind' is '"
          + TextEventParser.abbreviate(kindNode.textValue()) + "'; expected summary or reply");
    }
    JsonNode text = TextEventParser.present(obj, "text");
    Rejected badText = reader.checkText(text);
    if (badText != null) {
      return new Result.Invalid(badText);
    }
    String[] optional = new String[2];
    String[] names = {"routed_by", "timestamp"};
    for (int i = 0; i < names.length; i++) {
      JsonNode node = TextEventParser.present(obj, names[i]);
      if (node != null && !node.isTextual()) {
        return new Result.Invalid(TextEventParser.wrongType(names[i], "a string", node));
      }
      optional[i] = node == null ? null : node.textValue();
    }
    return new Result.Valid(new GenerationInput(record, id.textValue(), kind.get(), text.textValue(),
        optional[0] == null || optional[0].isBlank() ? "external" : optional[0], optional[1]));
  }

  private static Result invalid(DeadLetterReason reason, String message) {
    return new Result.Invalid(new Rejected(reason, message));
  }
}
