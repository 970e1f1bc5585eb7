package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.topology.ParseResult.Accepted;
import io.nlpstream.topology.ParseResult.Rejected;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TextEventParserTest {

  private final TextEventParser parser = new TextEventParser(1024, 8);

  private ParseResult parse(String json) {
    return parse(json.getBytes(StandardCharsets.UTF_8));
  }

  private ParseResult parse(byte[] value) {
    return parser.parse(new SourceRecord("text.in", 3, 42, 0, null, value));
  }

  private TextEvent accepted(String json) {
    ParseResult r = parse(json);
    assertThat(r).isInstanceOf(Accepted.class);
    return ((Accepted) r).event();
  }

  private Rejected rejected(String json) {
    ParseResult r = parse(json);
    assertThat(r).isInstanceOf(Rejected.class);
    return (Rejected) r;
  }

  @Test
  void readsEveryField() {
    TextEvent e = accepted("{\"id\":\"x1\",\"text\":\"Hi\",\"source\":\"chat\",\"lang\":\"en\",\"task\":\"reply\","
        + "\"metadata\":{\"k\":[1,2]},\"timestamp\":\"2024-05-01T12:00:00.5Z\"}");
    assertThat(e).isEqualTo(new TextEvent("x1", "Hi", "chat", "en", Task.REPLY, e.metadata(),
        Instant.parse("2024-05-01T12:00:00.5Z")));
    assertThat(e.metadata().toString()).isEqualTo("{\"k\":[1,2]}");
  }

  @Test
  void derivesTheIdFromTheCoordinatesWhenAbsentOrNull() {
    assertThat(accepted("{\"text\":\"a\"}").id()).isEqualTo("text.in-3-42");
    assertThat(accepted("{\"text\":\"a\",\"id\":null}").id()).isEqualTo("text.in-3-42");
  }

  @Test
  void nullCountsAsAbsentForOptionalFields() {
    TextEvent e = accepted("{\"text\":\"a\",\"source\":null,\"lang\":null,\"task\":null,\"metadata\":null,"
        + "\"timestamp\":null}");
    assertThat(e).isEqualTo(new TextEvent("text.in-3-42", "a", null, null, null, null, null));
  }

  @Test
  void timestampIsEpochMillisOrAnIsoDateTimeWithOffset() {
    assertThat(accepted("{\"text\":\"a\",\"timestamp\":1714564800000}").timestamp())
        .isEqualTo(Instant.parse("2024-05-01T12:00:00Z"));
    assertThat(accepted("{\"text\":\"a\",\"timestamp\":\"2024-05-01T14:00:00+02:00\"}").timestamp())
        .isEqualTo(Instant.parse("2024-05-01T12:00:00Z"));
    assertThat(rejected("{\"text\":\"a\",\"timestamp\":\"2024-05-01T12:00:00\"}").reason())
        .as("a local date-time is ambiguous").isEqualTo(DeadLetterReason.INVALID_VALUE);
    assertThat(rejected("{\"text\":\"a\",\"timestamp\":1.5}").reason()).isEqualTo(DeadLetterReason.WRONG_TYPE);
  }

  @Test
  void acceptsSupplementaryCharactersButNotUnpairedSurrogates() {
    assertThat(accepted("{\"text\":\"smile \\ud83d\\ude00 ok\"}").text()).isEqualTo("smile 😀 ok");
    assertThat(accepted("{\"text\":\"smile 😀 ok\"}").text()).isEqualTo("smile 😀 ok");
    Rejected r = rejected("{\"text\":\"ab\\ude00\"}");
    assertThat(r.reason()).isEqualTo(DeadLetterReason.INVALID_UTF8);
    assertThat(r.message()).contains("char 2");
  }

  @Test
  void reportsWhereTheUtf8IsBroken() {
    byte[] bytes = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', 'a', (byte) 0xE2, (byte) 0x82, '"', '}'};
    Rejected r = (Rejected) parse(bytes);
    assertThat(r.reason()).isEqualTo(DeadLetterReason.INVALID_UTF8);
    assertThat(r.message()).contains("byte offset 10");
    byte[] truncated = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', 'a', (byte) 0xE2};
    assertThat(((Rejected) parse(truncated)).reason()).isEqualTo(DeadLetterReason.INVALID_UTF8);
  }

  @Test
  void sizeIsCheckedOnBytesBeforeAnythingElse() {
    byte[] big = new byte[1025];
    Rejected r = (Rejected) parse(big);
    assertThat(r.reason()).isEqualTo(DeadLetterReason.TOO_LARGE);
    assertThat(r.message()).isEqualTo("value is 1025 bytes, over max.input.bytes=1024");
    assertThat(parse(new byte[1024])).isInstanceOf(Rejected.class)
        .extracting(x -> ((Rejected) x).reason()).isEqualTo(DeadLetterReason.NOT_JSON);
  }

  @Test
  void nestingAndNumberLimitsAreTooLargeNotSyntaxErrors() {
    // Limit 8: the root object, metadata, then arrays.
    String eight = "{\"text\":\"a\",\"metadata\":{\"a\":" + "[".repeat(6) + "]".repeat(6) + "}}";
    assertThat(accepted(eight).metadata()).isNotNull();
    String nine = "{\"text\":\"a\",\"metadata\":{\"a\":" + "[".repeat(7) + "]".repeat(7) + "}}";
    assertThat(rejected(nine).reason()).isEqualTo(DeadLetterReason.TOO_LARGE);
    assertThat(rejected(nine).message()).containsIgnoringCase("nesting depth");
    assertThat(rejected("{\"text\":\"a\",\"metadata\":{\"n\":1" + "0".repeat(200) + "}}").reason())
        .isEqualTo(DeadLetterReason.TOO_LARGE);
  }

  @Test
  void messagesSayWhatIsWrong() {
    assertThat(rejected("{\"text\":[\"a\"]}").message()).isEqualTo("field 'text' must be a string, got an array");
    assertThat(rejected("{\"text\":\"a\",\"id\":7}").message()).isEqualTo("field 'id' must be a string, got an integer");
    assertThat(rejected("{\"text\":\"a\",\"id\":\" \"}").reason()).isEqualTo(DeadLetterReason.INVALID_VALUE);
    assertThat(rejected("{\"text\":\"a\",\"lang\":{}}").message()).isEqualTo("field 'lang' must be a string, got an object");
    assertThat(rejected("{\"text\":\"a\",\"task\":\"Summary\"}").message()).contains("'Summary'", "summary or reply");
    assertThat(rejected("{\"text\":\"a\" \"x\":1}").message()).contains("line 1");
    assertThat(rejected("   ").reason()).isEqualTo(DeadLetterReason.NOT_JSON);
    assertThat(rejected("42").message()).isEqualTo("expected a JSON object, got an integer");
  }

  @Test
  void textLongerThanMaxTextCharsIsTooLargeBeforeAnyOtherTextCheck() {
    TextEventParser limited = new TextEventParser(1024, 8, 10);
    SourceRecord ok = new SourceRecord("text.in", 0, 1, 0, null,
        "{\"text\":\"0123456789\"}".getBytes(StandardCharsets.UTF_8));
    SourceRecord tooLong = new SourceRecord("text.in", 0, 2, 0, null,
        "{\"text\":\"01234567890\"}".getBytes(StandardCharsets.UTF_8));
    // 11 blanks: too long wins over empty_text, so the limit holds whatever the content.
    SourceRecord longBlank = new SourceRecord("text.in", 0, 3, 0, null,
        ("{\"text\":\"" + " ".repeat(11) + "\"}").getBytes(StandardCharsets.UTF_8));
    // The limit counts UTF-16 chars: 5 emoji are 10 chars (20 bytes).
    SourceRecord emoji = new SourceRecord("text.in", 0, 4, 0, null,
        "{\"text\":\"😀😀😀😀😀\"}".getBytes(StandardCharsets.UTF_8));

    assertThat(limited.parse(ok)).isInstanceOf(Accepted.class);
    assertThat(limited.parse(emoji)).isInstanceOf(Accepted.class);
    for (SourceRecord r : new SourceRecord[] {tooLong, longBlank}) {
      assertThat(limited.parse(r)).isInstanceOfSatisfying(Rejected.class, rej -> {
        assertThat(rej.reason()).isEqualTo(DeadLetterReason.TOO_LARGE);
        assertThat(rej.message()).contains("max.text.chars=10").contains("11 chars");
      });
    }
  }

  @Test
  void timestampsOutsideFourDigitYearsAreInvalidValues() {
    // Found by TopologyFuzzTest: a random epoch-ms value became an extended-year date the output schema refuses.
    assertThat(accepted("{\"text\":\"a\",\"timestamp\":253402300799999}").timestamp())
        .isEqualTo(Instant.parse("9999-12-31T23:59:59.999Z"));
    assertThat(accepted("{\"text\":\"a\",\"timestamp\":-62167219200000}").timestamp())
        .isEqualTo(Instant.parse("0000-01-01T00:00:00Z"));
    for (String ts : new String[] {"253402300800000", "-62167219200001", "-9223372036854775808",
        "\"+10000-01-01T00:00:00Z\""}) {
      Rejected r = rejected("{\"text\":\"a\",\"timestamp\":" + ts + "}");
      assertThat(r.reason()).as(ts).isEqualTo(DeadLetterReason.INVALID_VALUE);
      assertThat(r.message()).contains("0000-9999");
    }
  }
}
