package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {

  @TempDir
  Path tmp;

  private static DemoReport report(Map<String, Long> sentiment) {
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("sent to text.in", 40L);
    counts.put("text.enriched", 31L);
    counts.put("text.dlq", 9L);
    return new DemoReport("40 records from samples/demo-input.jsonl", counts, Map.of("not_json", 2L, "too_large", 1L),
        List.of(30.0, 80.0, 90.0, 400.0, 45_000.0), sentiment, Map.of("World", 12L, "Sci/Tech", 3L),
        Map.of("PER", 7L, "LOC", 4L), Map.of("inference batches", "6", "mean batch size", "5.2"));
  }

  @Test
  void isOneSelfContainedPageWithChartsAndCounts() throws Exception {
    Path file = tmp.resolve("out/report.html");
    report(Map.of("negative", 10L, "neutral", 6L, "positive", 15L)).write(file);

    String html = Files.readString(file, StandardCharsets.UTF_8);
    assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n");
    assertThat(html).contains("<td>text.dlq</td><td class=\"n\">9</td>")
        .contains("<td>too_large</td><td class=\"n\">1</td>")
        .contains("<td>mean batch size</td><td class=\"n\">5.2</td>");
    // One chart per distribution: latency, sentiment, top class, entity types.
    assertThat(html.split("<svg ", -1)).hasSize(5);
    assertThat(html).contains(">positive</text>").contains(">Sci/Tech</text>").contains(">PER</text>");
    // No external asset of any kind: it opens offline, and leaks nothing when opened.
    assertThat(html).doesNotContain("http://").doesNotContain("https://").doesNotContain("<script")
        .doesNotContain("<link").doesNotContain("src=").doesNotContain("url(").doesNotContain("@import");
  }

  @Test
  void barsAreProportionalToTheCounts() {
    String html = report(Map.of("negative", 10L, "positive", 20L)).html();
    assertThat(html).contains("width=\"200\" height=\"16\" fill=\"#4a7bd0\"><title>negative: 10 records")
        .contains("width=\"400\" height=\"16\" fill=\"#4a7bd0\"><title>positive: 20 records");
  }

  @Test
  void latencyBinsCountEveryRecordOnceWithAnOpenLastBin() {
    Map<String, Long> bins = DemoReport.latencyHistogram(List.of(30.0, 50.0, 80.0, 90.0, 400.0, 45_000.0));
    assertThat(bins).hasSize(DemoReport.LATENCY_BINS_MS.length + 1);
    assertThat(bins.get("≤ 50 ms")).isEqualTo(2);
    assertThat(bins.get("≤ 100 ms")).isEqualTo(2);
    assertThat(bins.get("≤ 500 ms")).isEqualTo(1);
    assertThat(bins.get("> 30000 ms")).isEqualTo(1);
    assertThat(bins.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(6);
  }

  @Test
  void valuesFromTheDataAreEscaped() {
    String html = report(Map.of("<script>alert(1)</script>", 1L)).html();
    assertThat(html).doesNotContain("<script>").contains("&lt;script&gt;alert(1)&lt;/script&gt;");
  }
}
