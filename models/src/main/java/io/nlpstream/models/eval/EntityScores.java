package io.nlpstream.models.eval;

import io.nlpstream.models.eval.TaggedSentence.EntitySpan;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Entity-level exact-match precision, recall and F1 (CoNLL scoring: a predicted entity counts only
 * when its type and both boundaries equal a gold entity's), micro-averaged, with per-type figures.
 */
public final class EntityScores {

  private final Map<String, int[]> byType = new TreeMap<>(); // type -> {tp, predicted, gold}
  private int sentences;

  public void add(List<EntitySpan> gold, List<EntitySpan> predicted) {
    sentences++;
    Set<EntitySpan> goldSet = new HashSet<>(gold);
    for (EntitySpan g : gold) {
      byType.computeIfAbsent(g.type(), k -> new int[3])[2]++;
    }
    for (EntitySpan p : new HashSet<>(predicted)) {
      int[] c = byType.computeIfAbsent(p.type(), k -> new int[3]);
      c[1]++;
      if (goldSet.contains(p)) {
        c[0]++;
      }
    }
  }

  public int sentences() {
    return sentences;
  }

  public double precision() {
    int[] t = totals();
    return t[1] == 0 ? 0 : (double) t[0] / t[1];
  }

  public double recall() {
    int[] t = totals();
    return t[2] == 0 ? 0 : (double) t[0] / t[2];
  }

  public double f1() {
    double p = precision();
    double r = recall();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  /** Per type: {tp, predicted, gold}. */
  public Map<String, int[]> countsByType() {
    Map<String, int[]> copy = new TreeMap<>();
    byType.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  public double f1(String type) {
    int[] c = byType.getOrDefault(type, new int[3]);
    double p = c[1] == 0 ? 0 : (double) c[0] / c[1];
    double r = c[2] == 0 ? 0 : (double) c[0] / c[2];
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  private int[] totals() {
    int[] t = new int[3];
    for (int[] c : byType.values()) {
      t[0] += c[0];
      t[1] += c[1];
      t[2] += c[2];
    }
    return t;
  }
}
