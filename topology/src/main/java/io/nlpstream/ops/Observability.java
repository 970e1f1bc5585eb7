package io.nlpstream.ops;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nlpstream.config.NlpstreamConfig;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The operational surface of one nlpstream process, shared by every stage it runs (the BERT stage,
 * the GPT stage): one Prometheus {@link #registry() meter registry} (JVM metrics bound), one set
 * of {@link #health() health checks}, and, when {@code metrics.port} is not -1, the
 * {@link OpsHttpServer} that serves both on {@code metrics.bind.address}:{@code metrics.port}.
 *
 * <p>Stages register their meters (tagged {@code stage=bert|gpt}) and health components in it
 * and remove them when they close; the process closes this object last.
 *
 * <p>Thread-safe. Ownership: the creator closes it (stops the endpoint, closes the registry).
 */
public final class Observability implements AutoCloseable {

  private final PrometheusMeterRegistry registry;
  private final HealthChecks health = new HealthChecks();
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final OpsHttpServer server;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Observability(boolean serve, String bindAddress, int port) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("application", "nlpstream");
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    OpsHttpServer started = null;
    if (serve) {
      try {
        started = OpsHttpServer.start(new InetSocketAddress(bindAddress, port), registry, health);
      } catch (RuntimeException e) {
        gcMetrics.close();
        registry.close();
        throw e;
      }
    }
    this.server = started;
  }

  /**
   * A registry and health checks, served over HTTP as {@code metrics.port} and
   * {@code metrics.bind.address} say (not at all for port -1).
   *
   * @throws java.io.UncheckedIOException when the endpoint cannot bind (the message names the address)
   */
  public static Observability start(NlpstreamConfig config) {
    int port = config.getInt(NlpstreamConfig.METRICS_PORT);
    return new Observability(port >= 0, config.getString(NlpstreamConfig.METRICS_BIND_ADDRESS), Math.max(port, 0));
  }

  /** A registry and health checks without an endpoint (tests, benchmarks, embedded use). */
  public static Observability unserved() {
    return new Observability(false, null, 0);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public HealthChecks health() {
    return health;
  }

  /** Where the endpoint listens, if it does. */
  public Optional<InetSocketAddress> address() {
    return Optional.ofNullable(server).map(OpsHttpServer::address);
  }

  /** Stops the endpoint, then releases the JVM metric listeners and the registry. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (server != null) {
      server.close();
    }
    gcMetrics.close();
    registry.close();
  }
}
