package io.nlpstream.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.nlpstream.config.NlpstreamConfig;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The operations endpoint over real HTTP on a free loopback port. */
class OpsHttpServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private Observability observability;

  @AfterEach
  void close() {
    if (observability != null) {
      observability.close();
    }
  }

  private Observability start() {
    observability = Observability.start(NlpstreamConfig.of(Map.of(NlpstreamConfig.METRICS_PORT, "0")));
    return observability;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    var a = observability.address().orElseThrow();
    return URI.create("http://127.0.0.1:" + a.getPort() + path);
  }

  @Test
  void bindsToLoopbackByDefaultOnTheChosenFreePort() {
    Observability o = start();
    assertThat(o.address()).isPresent();
    assertThat(o.address().get().getAddress().isLoopbackAddress()).isTrue();
    assertThat(o.address().get().getPort()).isPositive();
  }

  @Test
  void portMinusOneServesNothing() {
    observability = Observability.start(NlpstreamConfig.of(Map.of(NlpstreamConfig.METRICS_PORT, "-1")));
    assertThat(observability.address()).isEmpty();
  }

  @Test
  void aTakenPortFailsNamingTheAddress() {
    Observability first = start();
    int port = first.address().orElseThrow().getPort();
    assertThatThrownBy(() -> Observability.start(NlpstreamConfig.of(Map.of(NlpstreamConfig.METRICS_PORT,
        String.valueOf(port))))).isInstanceOf(UncheckedIOException.class).hasMessageContaining(String.valueOf(port));
  }

  @Test
  void metricsAreServedInThePrometheusTextFormat() throws Exception {
    Observability o = start();
    Counter.builder("nlpstream.test.events").tag("stage", "bert").register(o.registry()).increment(3);

    HttpResponse<String> r = get(OpsHttpServer.METRICS_PATH);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(r.body())
        .contains("# TYPE nlpstream_test_events_total counter")
        .containsPattern("nlpstream_test_events_total\\{application=\"nlpstream\",stage=\"bert\"} 3\\.0")
        .as("JVM metrics are bound").contains("jvm_memory_used_bytes");
  }

  @Test
  void healthAndReadinessFollowTheRegisteredComponents() throws Exception {
    Observability o = start();
    // Nothing registered: the process is up (live) but runs nothing (not ready).
    assertThat(get(OpsHttpServer.HEALTH_PATH).statusCode()).isEqualTo(200);
    HttpResponse<String> empty = get(OpsHttpServer.READY_PATH);
    assertThat(empty.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(empty.body()).get("status").asText()).isEqualTo("DOWN");

    AtomicBoolean loaded = new AtomicBoolean();
    AtomicBoolean alive = new AtomicBoolean(true);
    o.health().register("bert.models", () -> HealthStatus.of(alive.get(), alive.get() && loaded.get(),
        Map.of("models", loaded.get() ? "minilm-heads@1" : "loading")));
    HealthChecks.Registration gpt = o.health().register("gpt.streams", () -> HealthStatus.of(true, true,
        Map.of("state", "RUNNING")));

    HttpResponse<String> loading = get(OpsHttpServer.READY_PATH);
    assertThat(loading.statusCode()).isEqualTo(503);
    JsonNode body = JSON.readTree(loading.body());
    assertThat(body.at("/components/bert.models/ready").asBoolean()).isFalse();
    assertThat(body.at("/components/bert.models/models").asText()).isEqualTo("loading");
    assertThat(body.at("/components/gpt.streams/state").asText()).isEqualTo("RUNNING");

    loaded.set(true);
    HttpResponse<String> ready = get(OpsHttpServer.READY_PATH);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(JSON.readTree(ready.body()).get("status").asText()).isEqualTo("UP");

    alive.set(false);
    assertThat(get(OpsHttpServer.HEALTH_PATH).statusCode()).isEqualTo(503);
    assertThat(get(OpsHttpServer.READY_PATH).statusCode()).isEqualTo(503);

    // A stage that closes takes its components with it.
    alive.set(true);
    gpt.close();
    assertThat(JSON.readTree(get(OpsHttpServer.READY_PATH).body()).get("components").has("gpt.streams")).isFalse();
  }

  @Test
  void aThrowingCheckIsReportedAsDownWithoutBreakingTheEndpoint() throws Exception {
    Observability o = start();
    o.health().register("broken", () -> {
      throw new IllegalStateException("check exploded");
    });
    HttpResponse<String> r = get(OpsHttpServer.HEALTH_PATH);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("check exploded");
    assertThat(get(OpsHttpServer.METRICS_PATH).statusCode()).isEqualTo(200);
  }

  @Test
  void unknownPathsAndMethodsAreRefused() throws Exception {
    start();
    assertThat(get("/").statusCode()).isEqualTo(404);
    assertThat(get("/metrics/extra").statusCode()).isEqualTo(404);
    HttpResponse<String> post = send(HttpRequest.newBuilder(uri(OpsHttpServer.READY_PATH))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<String> head = send(HttpRequest.newBuilder(uri(OpsHttpServer.HEALTH_PATH))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void aComponentNameIsRegisteredOnce() {
    HealthChecks checks = new HealthChecks();
    checks.register("bert.streams", () -> HealthStatus.of(true, true, Map.of()));
    assertThatThrownBy(() -> checks.register("bert.streams", () -> HealthStatus.of(true, true, Map.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bert.streams");
  }
}
