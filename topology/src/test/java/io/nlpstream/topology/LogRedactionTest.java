package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.testing.CapturedLogs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records' texts never appear in log lines at INFO or above, whatever happens to the record (bad
 * input, failed inference, an exception in a processor, success), and every error line carries the
 * record's coordinates in the logging context instead.
 */
class LogRedactionTest {

  @TempDir
  Path stateDir;

  @Test
  void noInputTextAtInfoOrAboveAndErrorsCarryTheRecordsCoordinates() {
    String tag = UUID.randomUUID().toString().replace("-", "");
    List<String> markers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      markers.add("Secretword" + i + tag);
    }
    ScriptedAnalyzer analyzer = new ScriptedAnalyzer();
    try (CapturedLogs logs = CapturedLogs.start();
         EnrichmentHarness h = new EnrichmentHarness(analyzer, stateDir,
             Map.of("max.input.bytes", "400", "max.text.chars", "120"))) {
      h.pipe("{\"id\":\"r0\",\"text\":\"" + markers.get(0) + " unterminated");                 // offset 0: not_json
      h.pipe("{\"id\":\"r1\",\"text\":42,\"note\":\"" + markers.get(1) + "\"}");               // 1: wrong_type
      h.pipe("{\"id\":\"r2\",\"text\":\"" + markers.get(2) + " boom\"}");                      // 2: inference_error
      h.pipe("{\"text\":\"" + markers.get(3) + " tokenizer-bug\"}");                           // 3: processing_error
      h.pipe("{\"id\":\"r4\",\"text\":\"" + markers.get(4) + " " + "x".repeat(500) + "\"}");   // 4: too_large (bytes)
      h.pipe("{\"id\":\"r5\",\"text\":\"" + markers.get(5) + " " + "y ".repeat(60) + "\"}");   // 5: too_large (chars)
      byte[] head = ("{\"text\":\"" + markers.get(6) + " ").getBytes(StandardCharsets.UTF_8);
      byte[] invalid = java.util.Arrays.copyOf(head, head.length + 4);
      invalid[head.length] = (byte) 0xC3;                                                      // 6: invalid_utf8
      invalid[head.length + 1] = (byte) 0x28;
      invalid[head.length + 2] = '"';
      invalid[head.length + 3] = '}';
      h.pipe(null, invalid);
      h.pipe("{\"id\":\"r7\",\"text\":\"" + markers.get(7) + " is a fine sentence about Paris.\"}"); // 7: enriched

      h.pumpUntil("every record accounted for", () -> h.enriched.size() + h.deadLetters.size() == 8);
      h.settle();

      assertThat(h.enriched).hasSize(1);
      assertThat(h.deadLetters).extracting(r -> r.value().get("reason").asText()).containsExactlyInAnyOrder(
          "not_json", "wrong_type", "inference_error", "processing_error", "too_large", "too_large", "invalid_utf8");

      List<CapturedLogs.Line> printed = logs.atLeast(Level.INFO);
      for (CapturedLogs.Line line : printed) {
        for (String marker : markers) {
          assertThat(line.everything()).as("%s line of %s", line.level(), line.logger()).doesNotContain(marker);
        }
      }

      // The failures that are logged say which record, in the context, not in the text.
      CapturedLogs.Line inference = printed.stream().filter(l -> "r2".equals(l.context().get("record_id")))
          .findFirst().orElseThrow(() -> new AssertionError("no log line for the inference failure: " + printed));
      assertThat(inference.level()).isEqualTo(Level.WARN);
      assertThat(inference.context()).containsEntry("stage", "bert").containsEntry("step", "bert")
          .containsEntry("topic", "text.in").containsEntry("partition", "0").containsEntry("offset", "2");
      CapturedLogs.Line processing = printed.stream().filter(l -> "text.in-0-3".equals(l.context().get("record_id")))
          .findFirst().orElseThrow(() -> new AssertionError("no log line for the processing error: " + printed));
      assertThat(processing.level()).isEqualTo(Level.ERROR);
      assertThat(processing.thrown()).contains("scripted tokenizer bug");
      assertThat(processing.context()).containsEntry("stage", "bert").containsEntry("topic", "text.in")
          .containsEntry("offset", "3");
      // The context is cleared after each line: nothing leaks into unrelated lines of the same thread.
      assertThat(printed.stream().filter(l -> l.context().containsKey("record_id"))).hasSize(2);
    }
  }
}
