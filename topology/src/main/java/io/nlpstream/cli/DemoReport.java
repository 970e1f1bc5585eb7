package io.nlpstream.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The HTML report of one {@code nlpstream demo} run: counts by topic and dead-letter reason, a
 * histogram of the time from sending to result, the label distributions (sentiment, top class,
 * entity types) and the pipeline's own meters. One self-contained file: inline CSS and SVG, no
 * script, no external asset, so it opens anywhere, offline. Every value from the data is escaped.
 *
 * @param title      what ran (input file)
 * @param counts     rows of the counts table, label to count, in display order
 * @param deadLetterReasons dead letters by reason code
 * @param latencyMs  time from send to result of each accounted record, ms
 * @param sentiment  enriched records by sentiment label
 * @param topClass   enriched records by top class label
 * @param entityTypes entities found, by type
 * @param pipeline   facts from the registry (batches, mean batch size, padding, inference time), label to value
 */
record DemoReport(String title, Map<String, Long> counts, Map<String, Long> deadLetterReasons, List<Double> latencyMs,
                  Map<String, Long> sentiment, Map<String, Long> topClass, Map<String, Long> entityTypes,
                  Map<String, String> pipeline) {

  /** Upper bounds (ms) of the latency histogram's bins; the last bin is open. */
  static final double[] LATENCY_BINS_MS = {50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000};

  void write(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, html(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the demo report " + file, e);
    }
  }

  String html() {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>nlpstream demo report</title>\n")
        .append("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}")
        .append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;")
        .append("text-align:left}td.n{text-align:right}h2{margin-top:1.6em}svg text{font-size:12px;fill:#222}")
        .append("</style></head><body>\n");
    h.append("<h1>nlpstream demo report</h1>\n<p>").append(esc(title)).append("</p>\n");

    h.append("<h2>Records</h2>\n");
    table(h, "topic / outcome", counts);
    if (!deadLetterReasons.isEmpty()) {
      h.append("<h3>Dead letters by reason</h3>\n");
      table(h, "reason", deadLetterReasons);
    }

    h.append("<h2>Time from send to result</h2>\n<p>All records were sent at once, so this includes the"
        + " backlog: ").append(latencyMs.size()).append(" records");
    if (!latencyMs.isEmpty()) {
      List<Double> sorted = latencyMs.stream().sorted().toList();
      h.append(String.format(Locale.ROOT, ", median %.0f ms, max %.0f ms", sorted.get(sorted.size() / 2),
          sorted.get(sorted.size() - 1)));
    }
    h.append(".</p>\n");
    bars(h, latencyHistogram(latencyMs), "records");

    h.append("<h2>Labels of the enriched records</h2>\n<h3>Sentiment</h3>\n");
    bars(h, sentiment, "records");
    h.append("<h3>Top class</h3>\n");
    bars(h, topClass, "records");
    h.append("<h3>Entity types</h3>\n");
    bars(h, entityTypes, "entities");

    h.append("<h2>Pipeline meters</h2>\n<table><tr><th>meter</th><th>value</th></tr>\n");
    pipeline.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td class=\"n\">").append(esc(v))
        .append("</td></tr>\n"));
    h.append("</table>\n</body></html>\n");
    return h.toString();
  }

  /** Records per latency bin, labelled {@code ≤ 50 ms} ... {@code > 30000 ms}, every bin present. */
  static Map<String, Long> latencyHistogram(List<Double> latencyMs) {
    Map<String, Long> bins = new LinkedHashMap<>();
    for (double bound : LATENCY_BINS_MS) {
      bins.put(String.format(Locale.ROOT, "≤ %.0f ms", bound), 0L);
    }
    String overflow = String.format(Locale.ROOT, "> %.0f ms", LATENCY_BINS_MS[LATENCY_BINS_MS.length - 1]);
    bins.put(overflow, 0L);
    for (double ms : latencyMs) {
      String bin = overflow;
      for (double bound : LATENCY_BINS_MS) {
        if (ms <= bound) {
          bin = String.format(Locale.ROOT, "≤ %.0f ms", bound);
          break;
        }
      }
      bins.merge(bin, 1L, Long::sum);
    }
    return bins;
  }

  private static void table(StringBuilder h, String header, Map<String, Long> rows) {
    h.append("<table><tr><th>").append(esc(header)).append("</th><th>count</th></tr>\n");
    rows.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td class=\"n\">").append(v)
        .append("</td></tr>\n"));
    h.append("</table>\n");
  }

  /** A horizontal bar chart as inline SVG: one row per entry, bar length proportional to the count. */
  private static void bars(StringBuilder h, Map<String, Long> values, String unit) {
    if (values.isEmpty()) {
      h.append("<p>(none)</p>\n");
      return;
    }
    int row = 22;
    int labelWidth = 150;
    int barWidth = 400;
    long max = Math.max(1, values.values().stream().mapToLong(Long::longValue).max().orElse(1));
    int height = row * values.size() + 4;
    h.append("<svg role=\"img\" width=\"").append(labelWidth + barWidth + 80).append("\" height=\"").append(height)
        .append("\" viewBox=\"0 0 ").append(labelWidth + barWidth + 80).append(' ').append(height).append("\">\n");
    int y = 2;
    for (Map.Entry<String, Long> e : values.entrySet()) {
      int w = (int) Math.round((double) e.getValue() / max * barWidth);
      h.append("<text x=\"").append(labelWidth - 6).append("\" y=\"").append(y + 15)
          .append("\" text-anchor=\"end\">").append(esc(e.getKey())).append("</text>")
          .append("<rect x=\"").append(labelWidth).append("\" y=\"").append(y + 3).append("\" width=\"").append(w)
          .append("\" height=\"").append(row - 6).append("\" fill=\"#4a7bd0\"><title>").append(esc(e.getKey()))
          .append(": ").append(e.getValue()).append(' ').append(esc(unit)).append("</title></rect>")
          .append("<text x=\"").append(labelWidth + w + 6).append("\" y=\"").append(y + 15).append("\">")
          .append(e.getValue()).append("</text>\n");
      y += row;
    }
    h.append("</svg>\n");
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
