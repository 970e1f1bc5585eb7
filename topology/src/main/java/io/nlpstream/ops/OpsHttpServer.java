package io.nlpstream.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations endpoint, on the JDK's own HTTP server (no web framework):
 * <ul>
 *   <li>{@value #METRICS_PATH}: the registry in the Prometheus text format (version 0.0.4);</li>
 *   <li>{@value #HEALTH_PATH}: liveness, {@code 200} when every component is live, else {@code 503};</li>
 *   <li>{@value #READY_PATH}: readiness, {@code 200} when every component is ready, else {@code 503}.</li>
 * </ul>
 * Health bodies are JSON: {@code {"status":"UP"|"DOWN", "components":{name:{"live","ready",...details}}}}.
 * Only GET and HEAD; other paths answer 404, other methods 405. No authentication: bind it to
 * loopback or a private network ({@code metrics.bind.address}).
 *
 * <p>Requests are served one at a time on one daemon thread (scrapes and probes are rare and cheap).
 * Ownership: the creator closes it; closing stops the listener and the thread. Thread-safe.
 */
public final class OpsHttpServer implements AutoCloseable {

  public static final String METRICS_PATH = "/metrics";
  public static final String HEALTH_PATH = "/health";
  public static final String READY_PATH = "/ready";

  private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private OpsHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds {@code address} ({@code port} 0 = a free port) and starts serving.
   *
   * @throws UncheckedIOException naming the address when it cannot bind (port taken, no such address)
   */
  public static OpsHttpServer start(InetSocketAddress address, PrometheusMeterRegistry registry, HealthChecks health) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(health, "health");
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve metrics and health on " + address + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "nlpstream-ops-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", exchange -> {
      try (exchange) {
        serve(exchange, registry, health);
      } catch (IOException | RuntimeException e) {
        // A client that hung up, or a failing check: never let it kill the endpoint's thread.
        LOG.warn("{} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e.toString());
      }
    });
    server.start();
    OpsHttpServer ops = new OpsHttpServer(server, executor);
    LOG.info("operations endpoint on http://{}:{} ({}, {}, {})", address.getHostString(), ops.port(),
        METRICS_PATH, HEALTH_PATH, READY_PATH);
    return ops;
  }

  /** The bound port (the chosen one when started with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry, HealthChecks health)
      throws IOException {
    String method = exchange.getRequestMethod();
    boolean head = "HEAD".equals(method);
    if (!head && !"GET".equals(method)) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n", head);
      return;
    }
    switch (exchange.getRequestURI().getPath()) {
      case METRICS_PATH -> respond(exchange, 200, PROMETHEUS_TEXT, registry.scrape(), head);
      case HEALTH_PATH -> respond(exchange, health.liveness(), head);
      case READY_PATH -> respond(exchange, health.readiness(), head);
      default -> respond(exchange, 404, "text/plain; charset=utf-8",
          "not found; try " + METRICS_PATH + ", " + HEALTH_PATH + " or " + READY_PATH + "\n", head);
    }
  }

  private static void respond(HttpExchange exchange, HealthChecks.Report report, boolean head) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", report.healthy() ? "UP" : "DOWN");
    Map<String, Object> components = new LinkedHashMap<>();
    report.components().forEach((name, s) -> {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("live", s.live());
      c.put("ready", s.ready());
      c.putAll(s.details());
      components.put(name, c);
    });
    body.put("components", components);
    respond(exchange, report.healthy() ? 200 : 503, "application/json",
        JSON.writeValueAsString(body) + "\n", head);
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String body, boolean head)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    if (head) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Stops listening (waits up to a second for a request in progress) and ends the thread. Idempotent. */
  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }
}
