package io.nlpstream.models.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Accuracy, macro-F1 and macro-recall of predicted against gold labels. Macro averages run over the
 * gold label set given at construction (a class never predicted still counts, with F1 0).
 */
public final class ClassificationScores {

  private final List<String> labels;
  private final Map<String, int[]> counts = new LinkedHashMap<>(); // label -> {tp, fp, fn}
  private int n;
  private int correct;

  public ClassificationScores(List<String> labels) {
    this.labels = List.copyOf(labels);
    for (String label : labels) {
      counts.put(label, new int[3]);
    }
  }

  public void add(String gold, String predicted) {
    Objects.requireNonNull(gold, "gold");
    Objects.requireNonNull(predicted, "predicted");
    n++;
    if (gold.equals(predicted)) {
      correct++;
      counts.computeIfAbsent(gold, k -> new int[3])[0]++;
    } else {
      counts.computeIfAbsent(predicted, k -> new int[3])[1]++;
      counts.computeIfAbsent(gold, k -> new int[3])[2]++;
    }
  }

  public int n() {
    return n;
  }

  public double accuracy() {
    return n == 0 ? 0 : (double) correct / n;
  }

  public double recall(String label) {
    int[] c = counts.getOrDefault(label, new int[3]);
    return c[0] + c[2] == 0 ? 0 : (double) c[0] / (c[0] + c[2]);
  }

  public double precision(String label) {
    int[] c = counts.getOrDefault(label, new int[3]);
    return c[0] + c[1] == 0 ? 0 : (double) c[0] / (c[0] + c[1]);
  }

  public double f1(String label) {
    double p = precision(label);
    double r = recall(label);
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  public double macroF1() {
    return labels.stream().mapToDouble(this::f1).average().orElse(0);
  }

  public double macroRecall() {
    return labels.stream().mapToDouble(this::recall).average().orElse(0);
  }
}
