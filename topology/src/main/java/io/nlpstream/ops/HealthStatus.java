package io.nlpstream.ops;

import java.util.Map;
import java.util.Objects;

/**
 * What a {@link HealthCheck} reports.
 *
 * @param live    false when the component is broken beyond recovery in this process (a dead stream
 *                client, a dead batcher thread): a supervisor should restart the process
 * @param ready   true when the component does its work now (Kafka Streams RUNNING, models loaded)
 * @param details what an operator reads in the JSON body (state, thread states, model ids); values
 *                are strings, numbers, booleans, lists or maps of those
 */
public record HealthStatus(boolean live, boolean ready, Map<String, Object> details) {

  public HealthStatus {
    Objects.requireNonNull(details, "details");
    details = Map.copyOf(details);
    if (ready && !live) {
      throw new IllegalArgumentException("a component cannot be ready and not live");
    }
  }

  public static HealthStatus of(boolean live, boolean ready, Map<String, Object> details) {
    return new HealthStatus(live, ready, details);
  }
}
