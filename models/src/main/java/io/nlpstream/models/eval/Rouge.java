package io.nlpstream.models.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L F-measures (0-1), tokenised as Google's rouge-score does without
 * stemming: lower-cased, every run of characters other than a-z and 0-9 is a separator. With several
 * references a prediction gets, per metric, the best F-measure over them ({@code score_multi}).
 * ROUGE-L is the sentence-level LCS variant. Not thread-safe; accumulate per thread.
 */
public final class Rouge {

  /** The three F-measures of one prediction, or their means over a data set. */
  public record Scores(double rouge1, double rouge2, double rougeL) {}

  private double sum1;
  private double sum2;
  private double sumL;
  private int n;

  /** Scores {@code prediction} against {@code references} and adds it to the running means. */
  public Scores add(String prediction, List<String> references) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("at least one reference is needed");
    }
    List<String> predicted = tokens(prediction);
    double best1 = 0;
    double best2 = 0;
    double bestL = 0;
    for (String reference : references) {
      List<String> ref = tokens(reference);
      best1 = Math.max(best1, ngramF(predicted, ref, 1));
      best2 = Math.max(best2, ngramF(predicted, ref, 2));
      bestL = Math.max(bestL, lcsF(predicted, ref));
    }
    sum1 += best1;
    sum2 += best2;
    sumL += bestL;
    n++;
    return new Scores(best1, best2, bestL);
  }

  public int n() {
    return n;
  }

  public Scores mean() {
    return n == 0 ? new Scores(0, 0, 0) : new Scores(sum1 / n, sum2 / n, sumL / n);
  }

  static List<String> tokens(String text) {
    List<String> out = new ArrayList<>();
    for (String t : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
      if (!t.isEmpty()) {
        out.add(t);
      }
    }
    return out;
  }

  private static double ngramF(List<String> predicted, List<String> reference, int order) {
    Map<List<String>, Integer> p = ngrams(predicted, order);
    Map<List<String>, Integer> r = ngrams(reference, order);
    int overlap = 0;
    for (Map.Entry<List<String>, Integer> e : p.entrySet()) {
      overlap += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
    }
    int pTotal = Math.max(0, predicted.size() - order + 1);
    int rTotal = Math.max(0, reference.size() - order + 1);
    return f(overlap, pTotal, rTotal);
  }

  private static Map<List<String>, Integer> ngrams(List<String> tokens, int order) {
    Map<List<String>, Integer> counts = new HashMap<>();
    for (int i = 0; i + order <= tokens.size(); i++) {
      counts.merge(tokens.subList(i, i + order), 1, Integer::sum);
    }
    return counts;
  }

  private static double lcsF(List<String> predicted, List<String> reference) {
    int[] previous = new int[reference.size() + 1];
    int[] current = new int[reference.size() + 1];
    for (String p : predicted) {
      for (int j = 1; j <= reference.size(); j++) {
        current[j] = p.equals(reference.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return f(previous[reference.size()], predicted.size(), reference.size());
  }

  private static double f(int overlap, int predictedTotal, int referenceTotal) {
    if (overlap == 0 || predictedTotal == 0 || referenceTotal == 0) {
      return 0;
    }
    double precision = (double) overlap / predictedTotal;
    double recall = (double) overlap / referenceTotal;
    return 2 * precision * recall / (precision + recall);
  }
}
