package io.nlpstream.ops;

/**
 * One component's view of its own health, asked for on every {@code /health} and {@code /ready}
 * request. Implementations must be thread-safe (called from the endpoint's thread while the
 * component runs on its own threads), cheap and non-blocking.
 */
@FunctionalInterface
public interface HealthCheck {

  HealthStatus check();
}
