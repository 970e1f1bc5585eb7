package io.nlpstream.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table with columns as wide as their widest cell. Not thread-safe. */
final class Table {

  private final String[] header;
  private final List<String[]> rows = new ArrayList<>();

  Table(String... header) {
    this.header = header;
  }

  Table row(String... cells) {
    if (cells.length != header.length) {
      throw new IllegalArgumentException("row of " + cells.length + " cells in a table of " + header.length + " columns");
    }
    rows.add(cells);
    return this;
  }

  void print(PrintWriter out) {
    int[] width = new int[header.length];
    for (int c = 0; c < header.length; c++) {
      width[c] = header[c].length();
      for (String[] r : rows) {
        width[c] = Math.max(width[c], r[c] == null ? 0 : r[c].length());
      }
    }
    line(out, header, width);
    String[] rule = new String[header.length];
    for (int c = 0; c < header.length; c++) {
      rule[c] = "-".repeat(width[c]);
    }
    line(out, rule, width);
    rows.forEach(r -> line(out, r, width));
    out.flush();
  }

  private static void line(PrintWriter out, String[] cells, int[] width) {
    StringBuilder sb = new StringBuilder();
    for (int c = 0; c < cells.length; c++) {
      String cell = cells[c] == null ? "" : cells[c];
      sb.append(cell);
      if (c < cells.length - 1) {
        sb.append(" ".repeat(width[c] - cell.length() + 2));
      }
    }
    out.println(sb.toString().stripTrailing());
  }
}
