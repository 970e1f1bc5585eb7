package io.nlpstream.faults;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link DeliveryAudit} counted: the inputs acknowledged ({@code sent}) and, per output, what
 * was expected, received, lost, duplicated and unexpected. Immutable.
 *
 * @param sent    acknowledged inputs (each expected by the audit)
 * @param outputs one entry per output: enriched, dlq, routed, and answered when audited
 */
public record Tally(long sent, List<OutputCount> outputs) {

  /**
   * Counts of one output topic.
   *
   * @param output     enriched, dlq, routed or answered
   * @param topic      its topic
   * @param expected   inputs that must appear there exactly once
   * @param received   records read from it
   * @param lost       expected inputs with no record there
   * @param duplicated records beyond the first of an expected input
   * @param unexpected records of inputs not expected there
   */
  public record OutputCount(String output, String topic, long expected, long received, long lost, long duplicated,
                            long unexpected) {}

  public Tally {
    outputs = List.copyOf(outputs);
  }

  /** The counts of {@code output} (enriched, dlq, routed). */
  public OutputCount output(String output) {
    return outputs.stream().filter(o -> o.output().equals(output)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no output " + output + " in " + this));
  }

  public long enriched() {
    return output("enriched").received();
  }

  public long deadLettered() {
    return output("dlq").received();
  }

  public long routed() {
    return output("routed").received();
  }

  public long lost() {
    return outputs.stream().mapToLong(OutputCount::lost).sum();
  }

  public long duplicated() {
    return outputs.stream().mapToLong(OutputCount::duplicated).sum();
  }

  public long unexpected() {
    return outputs.stream().mapToLong(OutputCount::unexpected).sum();
  }

  /** Nothing lost, nothing duplicated, nothing where it does not belong. */
  public boolean exact() {
    return lost() == 0 && duplicated() == 0 && unexpected() == 0;
  }

  /**
   * The summary fields, in print order: sent, enriched, dlq, routed, (answered, when the GPT stage's
   * outputs were audited), lost, duplicated, unexpected.
   */
  public Map<String, Long> summary() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("sent", sent);
    m.put("enriched", enriched());
    m.put("dlq", deadLettered());
    m.put("routed", routed());
    outputs.stream().filter(o -> o.output().equals("answered")).findFirst()
        .ifPresent(o -> m.put("answered", o.received()));
    m.put("lost", lost());
    m.put("duplicated", duplicated());
    m.put("unexpected", unexpected());
    return m;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tally").append(summary());
    for (OutputCount o : outputs) {
      sb.append("\n  ").append(o);
    }
    return sb.toString();
  }
}
