package io.nlpstream.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's health components by name (e.g. {@code bert.models}, {@code bert.streams}, and
 * later {@code gpt.models}, {@code gpt.streams}): every stage registers its own, so that
 * {@code /ready} covers every Kafka Streams instance and every model the process runs.
 *
 * <ul>
 *   <li><b>liveness</b> ({@code /health}): every registered component is live. With no component
 *       the process is live (it is up and answering).</li>
 *   <li><b>readiness</b> ({@code /ready}): at least one component is registered and every one is
 *       ready. A process that has not started its stages yet, or has stopped them, is not ready.</li>
 * </ul>
 * A check that throws counts as neither live nor ready, with the exception in its details.
 *
 * <p>Thread-safe.
 */
public final class HealthChecks {

  /**
   * A combined answer.
   *
   * @param healthy    live (for {@link #liveness()}) or ready (for {@link #readiness()})
   * @param components each component's status, by name, in name order
   */
  public record Report(boolean healthy, Map<String, HealthStatus> components) {}

  private final Map<String, HealthCheck> checks = new ConcurrentHashMap<>();

  /**
   * Adds a component. Closing the returned handle removes it (a stage that closes removes its
   * components, so that readiness no longer counts on them).
   *
   * @throws IllegalArgumentException if the name is taken
   */
  public Registration register(String name, HealthCheck check) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(check, "check");
    if (checks.putIfAbsent(name, check) != null) {
      throw new IllegalArgumentException("health component '" + name + "' is already registered");
    }
    return () -> checks.remove(name, check);
  }

  public Report liveness() {
    Map<String, HealthStatus> all = evaluate();
    return new Report(all.values().stream().allMatch(HealthStatus::live), all);
  }

  public Report readiness() {
    Map<String, HealthStatus> all = evaluate();
    return new Report(!all.isEmpty() && all.values().stream().allMatch(HealthStatus::ready), all);
  }

  private Map<String, HealthStatus> evaluate() {
    Map<String, HealthStatus> out = new LinkedHashMap<>();
    checks.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      HealthStatus status;
      try {
        status = e.getValue().check();
      } catch (RuntimeException ex) {
        status = HealthStatus.of(false, false, Map.of("error", ex.toString()));
      }
      out.put(e.getKey(), status);
    });
    return out;
  }

  /** Removes its component; idempotent. */
  @FunctionalInterface
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }
}
