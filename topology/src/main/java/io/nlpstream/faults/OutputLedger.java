package io.nlpstream.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed.Outcome;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bookkeeping of a {@link DeliveryAudit}, without Kafka: what each input key must become, what
 * each output holds per key, and the {@link Tally} of the difference.
 *
 * <p>Thread safety: {@link #expect} may be called from any thread; the other methods from one
 * thread at a time.
 */
final class OutputLedger {

  private record Expectation(Outcome outcome, boolean routed) {
    boolean wants(Output output) {
      return switch (output) {
        case ENRICHED -> outcome == Outcome.ENRICHED;
        case DEAD_LETTER -> outcome == Outcome.DEAD_LETTER;
        case ROUTED, ANSWERED -> routed;
      };
    }
  }

  private final Map<String, Expectation> expected = new ConcurrentHashMap<>();
  private final Map<Output, Map<String, Integer>> seen = new EnumMap<>(Output.class);
  private final Map<Output, List<JsonNode>> records = new EnumMap<>(Output.class);

  OutputLedger() {
    for (Output output : Output.values()) {
      seen.put(output, new HashMap<>());
      records.put(output, new ArrayList<>());
    }
  }

  /**
   * @throws IllegalStateException when the key was declared before (event ids must be unique)
   */
  void expect(String key, Outcome outcome, boolean routed) {
    Expectation previous = expected.putIfAbsent(key, new Expectation(outcome, routed));
    if (previous != null) {
      throw new IllegalStateException("input key " + key + " declared twice: event ids must be unique");
    }
  }

  int expectedInputs() {
    return expected.size();
  }

  /** Counts one output record under its key ({@code id} or {@code input_id}; a record without one counts as unexpected). */
  void record(Output output, JsonNode node) {
    JsonNode key = node.path(output.keyField);
    seen.get(output).merge(key.isTextual() ? key.asText() : "(no " + output.keyField + ")", 1, Integer::sum);
    records.get(output).add(node);
  }

  /** True when every expected output has arrived at least once (of the outputs in {@code audited}). */
  boolean accounted(Set<Output> audited) {
    for (Map.Entry<String, Expectation> e : expected.entrySet()) {
      for (Output output : audited) {
        if (e.getValue().wants(output) && !seen.get(output).containsKey(e.getKey())) {
          return false;
        }
      }
    }
    return true;
  }

  int received(Output output) {
    return records.get(output).size();
  }

  List<JsonNode> records(Output output) {
    return Collections.unmodifiableList(records.get(output));
  }

  /** The counts as of now, of the outputs in {@code topics}, which names each one's topic(s). */
  Tally tally(Map<Output, String> topics) {
    List<Tally.OutputCount> counts = new ArrayList<>();
    for (Output output : topics.keySet()) {
      Map<String, Integer> byKey = seen.get(output);
      long want = 0;
      long lost = 0;
      long duplicated = 0;
      long unexpected = 0;
      for (Map.Entry<String, Expectation> e : expected.entrySet()) {
        if (e.getValue().wants(output)) {
          want++;
          int n = byKey.getOrDefault(e.getKey(), 0);
          if (n == 0) {
            lost++;
          } else {
            duplicated += n - 1;
          }
        }
      }
      for (Map.Entry<String, Integer> e : byKey.entrySet()) {
        Expectation x = expected.get(e.getKey());
        if (x == null || !x.wants(output)) {
          unexpected += e.getValue();
        }
      }
      counts.add(new Tally.OutputCount(output.label(), topics.get(output), want, records.get(output).size(), lost,
          duplicated, unexpected));
    }
    return new Tally(expected.size(), counts);
  }
}
