package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throws a few thousand random and mutated records at the real topology (fake analyzer): random
 * bytes, valid events, truncated and bit-flipped JSON, deep nesting, huge strings, invalid UTF-8,
 * control characters, wrong types, tombstones, scripted inference and processing failures. Every
 * record must end up exactly once in the enriched topic or the dead-letter topic, and the
 * application must keep working afterwards. Seeded: a failure names the seed to replay it with.
 */
class TopologyFuzzTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RECORDS = 3000;
  private static final long SEED = Long.getLong("nlpstream.fuzz.seed", 20260101L);

  @TempDir
  Path stateDir;

  @Test
  void everyRecordEndsInExactlyOneOutputAndTheAppStaysUp() throws Exception {
    Random random = new Random(SEED);
    List<byte[]> values = new ArrayList<>();
    for (int i = 0; i < RECORDS; i++) {
      values.add(defuse(generate(random)));
    }
    ScriptedAnalyzer analyzer = new ScriptedAnalyzer();
    try (EnrichmentHarness h = new EnrichmentHarness(analyzer, stateDir, Map.of("max.input.bytes", "4096",
        "max.text.chars", "1500", "max.input.nesting.depth", "16", "routing.rules", "words>20->summary"))) {
      for (byte[] value : values) {
        byte[] key = random.nextInt(10) == 0 ? randomBytes(random, 20) : null;
        h.pipe(key, value);
        if (random.nextInt(50) == 0) {
          h.pump();
        }
      }
      h.pumpUntil(RECORDS + " records accounted for",
          () -> h.enriched.size() + h.deadLetters.size() >= RECORDS);
      h.settle();

      Map<Long, String> outcomeByOffset = new HashMap<>();
      List<String> duplicates = new ArrayList<>();
      for (TestRecord<String, JsonNode> r : h.enriched) {
        long offset = r.value().at("/source_offset/offset").asLong(-1);
        if (outcomeByOffset.put(offset, "enriched") != null) {
          duplicates.add(offset + " (enriched)");
        }
      }
      for (TestRecord<String, JsonNode> r : h.deadLetters) {
        long offset = r.value().at("/source/offset").asLong(-1);
        if (outcomeByOffset.put(offset, r.value().get("reason").asText()) != null) {
          duplicates.add(offset + " (" + r.value().get("reason").asText() + ")");
        }
      }
      assertThat(duplicates).as("records with more than one outcome (seed %d)", SEED).isEmpty();
      List<Long> missing = new ArrayList<>();
      for (long o = 0; o < RECORDS; o++) {
        if (!outcomeByOffset.containsKey(o)) {
          missing.add(o);
        }
      }
      assertThat(missing).as("records without an outcome (seed %d)", SEED).isEmpty();
      assertThat(outcomeByOffset).hasSize(RECORDS);

      // Every dead letter carries the original bytes, so that it can be replayed.
      for (TestRecord<String, JsonNode> r : h.deadLetters) {
        int offset = r.value().at("/source/offset").asInt();
        byte[] original = values.get(offset);
        JsonNode b64 = r.value().get("value_base64");
        if (original == null) {
          assertThat(b64 == null || b64.isNull()).isTrue();
        } else {
          assertThat(java.util.Base64.getDecoder().decode(b64.asText())).isEqualTo(original);
        }
      }
      // The mix exercised every kind of outcome, not just one.
      assertThat(outcomeByOffset.values()).contains("enriched", "not_json", "not_object", "missing_text",
          "wrong_type", "empty_text", "invalid_utf8", "too_large", "invalid_value", "inference_error",
          "processing_error");
      PipelineCounters.Snapshot counts = h.stage.counters().snapshot();
      assertThat(counts.in()).isEqualTo(RECORDS);
      assertThat(counts.enriched() + counts.deadLettersTotal()).isEqualTo(RECORDS);

      // Still up: a good record afterwards is enriched as usual.
      int before = h.enriched.size();
      h.pipe("{\"id\":\"after-the-storm\",\"text\":\"Still standing in Berlin.\"}");
      h.pumpUntil("the record after the fuzzing", () -> h.enriched.size() == before + 1);
      assertThat(h.enriched.get(before).key()).isEqualTo("after-the-storm");
      assertThat(h.buffered()).isEmpty();
    }
  }

  private static byte[] generate(Random r) throws Exception {
    return switch (r.nextInt(12)) {
      case 0 -> randomBytes(r, r.nextInt(300));
      case 1, 2 -> JSON.writeValueAsBytes(validEvent(r));
      case 3 -> truncate(r, JSON.writeValueAsBytes(validEvent(r)));
      case 4 -> mutate(r, JSON.writeValueAsBytes(validEvent(r)));
      case 5 -> deepNesting(r);
      case 6 -> hugeString(r);
      case 7 -> invalidUtf8(r, JSON.writeValueAsBytes(validEvent(r)));
      case 8 -> wrongTypes(r);
      case 9 -> controlCharacters(r);
      case 10 -> r.nextInt(4) == 0 ? null : notAnEvent(r);
      default -> scriptedFailure(r);
    };
  }

  private static ObjectNode validEvent(Random r) {
    ObjectNode e = JSON.createObjectNode();
    if (r.nextBoolean()) {
      e.put("id", "fz-" + r.nextInt(1_000_000));
    }
    e.put("text", randomText(r, 1 + r.nextInt(200)));
    if (r.nextBoolean()) {
      e.put("source", r.nextBoolean() ? "chat" : "news");
    }
    if (r.nextInt(4) == 0) {
      e.put("task", r.nextBoolean() ? "summary" : "reply");
    }
    if (r.nextInt(4) == 0) {
      e.putObject("metadata").put("k", r.nextInt()).putArray("a").add(r.nextDouble());
    }
    if (r.nextInt(4) == 0) {
      if (r.nextBoolean()) {
        e.put("timestamp", r.nextLong());
      } else {
        e.put("timestamp", "2024-05-01T12:00:00Z");
      }
    }
    return e;
  }

  /** Letters, digits, punctuation, whitespace, emoji, accented and CJK characters, escaped controls. */
  private static String randomText(Random r, int length) {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'-\t\néèüßçñ漢字한국어";
    StringBuilder sb = new StringBuilder();
    while (sb.length() < length) {
      int pick = r.nextInt(40);
      if (pick == 0) {
        sb.appendCodePoint(0x1F600 + r.nextInt(50));
      } else if (pick == 1) {
        sb.append((char) r.nextInt(0x20));
      } else {
        sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
    }
    return sb.toString();
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static byte[] truncate(Random r, byte[] json) {
    return Arrays.copyOf(json, r.nextInt(json.length));
  }

  private static byte[] mutate(Random r, byte[] json) {
    byte[] b = json.clone();
    int edits = 1 + r.nextInt(4);
    for (int i = 0; i < edits && b.length > 0; i++) {
      int at = r.nextInt(b.length);
      switch (r.nextInt(3)) {
        case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
        case 1 -> b[at] = "{}[]\",:\\0tfn".getBytes(StandardCharsets.US_ASCII)[r.nextInt(12)];
        default -> {
          byte[] shorter = new byte[b.length - 1];
          System.arraycopy(b, 0, shorter, 0, at);
          System.arraycopy(b, at + 1, shorter, at, b.length - at - 1);
          b = shorter;
        }
      }
    }
    return b;
  }

  private static byte[] deepNesting(Random r) {
    int depth = 1 + r.nextInt(60);
    String open = r.nextBoolean() ? "[" : "{\"a\":";
    String close = open.equals("[") ? "]" : "}";
    String nested = open.repeat(depth) + "1" + close.repeat(depth);
    String doc = r.nextBoolean() ? "{\"text\":\"nested\",\"metadata\":{\"x\":" + nested + "}}" : nested;
    return doc.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] hugeString(Random r) throws Exception {
    ObjectNode e = JSON.createObjectNode();
    e.put("text", randomText(r, 1000 + r.nextInt(5000)));
    if (r.nextBoolean()) {
      e.put("source", "x".repeat(r.nextInt(6000)));
    }
    return JSON.writeValueAsBytes(e);
  }

  private static byte[] invalidUtf8(Random r, byte[] json) {
    byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF}, {(byte) 0xF0, (byte) 0x9F, 0x28},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}};
    byte[] ins = bad[r.nextInt(bad.length)];
    int at = 10 + r.nextInt(Math.max(1, json.length - 12));
    at = Math.min(at, json.length);
    byte[] out = new byte[json.length + ins.length];
    System.arraycopy(json, 0, out, 0, at);
    System.arraycopy(ins, 0, out, at, ins.length);
    System.arraycopy(json, at, out, at + ins.length, json.length - at);
    return out;
  }

  private static byte[] wrongTypes(Random r) {
    String[] docs = {
        "{\"text\":42}", "{\"text\":[\"a\"]}", "{\"text\":{\"t\":\"a\"}}", "{\"text\":true}", "{\"text\":null}",
        "{\"text\":\"ok\",\"id\":7}", "{\"text\":\"ok\",\"metadata\":[1]}", "{\"text\":\"ok\",\"timestamp\":true}",
        "{\"text\":\"ok\",\"task\":\"poem\"}", "{\"text\":\"ok\",\"id\":\"  \"}", "{\"text\":\"ok\",\"lang\":1}",
        "{\"text\":\"ok\",\"timestamp\":\"yesterday\"}", "{\"text\":\"ok\",\"timestamp\":1.5}",
        "{\"text\":\"   \"}", "{\"text\":\"\"}", "{\"id\":\"no-text\"}", "{\"text\":\"\\ud800 lone\"}",
        "{\"text\":\"ok\",\"text\":\"twice\"}", "{\"text\":\"ok\"} trailing", "{\"text\":\"n\",\"x\":1" + "0".repeat(150) + "}"};
    return docs[r.nextInt(docs.length)].getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] controlCharacters(Random r) {
    StringBuilder sb = new StringBuilder("{\"text\":\"ctl ");
    for (int i = 0; i < 1 + r.nextInt(5); i++) {
      sb.append((char) r.nextInt(0x20));
    }
    sb.append(r.nextBoolean() ? "\"}" : "\\u0000\\u001f\"}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] notAnEvent(Random r) {
    String[] docs = {"", "   ", "null", "true", "12", "\"text\"", "[]", "[{\"text\":\"a\"}]", "{}", "{\"TEXT\":\"a\"}"};
    return docs[r.nextInt(docs.length)].getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] scriptedFailure(Random r) throws Exception {
    ObjectNode e = JSON.createObjectNode();
    e.put("text", randomText(r, 20) + (r.nextBoolean() ? " boom " : " tokenizer-bug ") + randomText(r, 10));
    return JSON.writeValueAsBytes(e);
  }

  /** Random data must not contain the analyzer's blocking trigger word. */
  private static byte[] defuse(byte[] value) {
    if (value == null) {
      return null;
    }
    String s = new String(value, StandardCharsets.ISO_8859_1);
    return s.contains("gated") ? s.replace("gated", "gatxd").getBytes(StandardCharsets.ISO_8859_1) : value;
  }
}
