package io.nlpstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.app.KafkaClientSettings;
import io.nlpstream.config.NlpstreamConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives one running GPT stage for {@code nlpstream bench}: {@code concurrency} clients in a closed
 * loop (each writes a summary request to the requests topic, waits until its output is committed
 * to the summaries topic, then writes the next), while a consumer thread (read_committed) watches
 * the summaries and dead-letter topics. Closed loop on purpose here: the concurrency level is what
 * is compared (how many requests the generator can batch), as in the runtime's GenerationBench.
 */
final class GenerationLoad {

  /**
   * One measured run.
   *
   * @param requests       requests answered
   * @param tokens         tokens generated (sum of the outputs' generated_tokens)
   * @param seconds        first request written to last output seen
   * @param tokensPerSecond tokens / seconds
   * @param p50Ms          median request-to-committed-output latency
   * @param p99Ms          99th percentile of the same
   */
  record Phase(int requests, long tokens, double seconds, double tokensPerSecond, double p50Ms, double p99Ms) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private GenerationLoad() {}

  /**
   * Runs {@code concurrency} clients, each sending {@code perClient} requests of {@code texts}
   * (round robin), and waits for every output.
   *
   * @throws CommandFailure when a request is dead-lettered or not answered in time
   */
  static Phase run(NlpstreamConfig config, String name, int concurrency, int perClient, List<String> texts) {
    String requestsTopic = config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS);
    String summaries = config.getString(NlpstreamConfig.TOPIC_SUMMARIES);
    String dlq = config.getString(NlpstreamConfig.TOPIC_DLQ);
    String prefix = "gptbench-" + name + "-";
    Map<String, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();
    AtomicBoolean done = new AtomicBoolean();
    int total = concurrency * perClient;
    double[] latencies = new double[total];
    AtomicLong tokens = new AtomicLong();
    try (TopicReader reader = new TopicReader(config, List.of(summaries, dlq), true)) {
      Thread watcher = new Thread(() -> {
        while (!done.get()) {
          for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(50))) {
            JsonNode node = OutputRecords.parse(r.value());
            String id = r.topic().equals(dlq) ? OutputRecords.text(node, "id") : OutputRecords.text(node, "input_id");
            CompletableFuture<JsonNode> f = id == null ? null : waiting.get(id);
            if (f != null) {
              f.complete(node);
            }
          }
        }
      }, "nlpstream-bench-gpt-watcher");
      watcher.start();
      Map<String, Object> producerConfig = KafkaClientSettings.producer(config);
      producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
      producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
      long start = System.nanoTime();
      AtomicLong lastSeen = new AtomicLong(start);
      try (KafkaProducer<byte[], byte[]> producer =
               new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int c = 0; c < concurrency; c++) {
          int client = c;
          clients.add(CompletableFuture.runAsync(() -> {
            for (int i = 0; i < perClient; i++) {
              int n = client * perClient + i;
              String id = prefix + n;
              CompletableFuture<JsonNode> answer = new CompletableFuture<>();
              waiting.put(id, answer);
              long sent = System.nanoTime();
              producer.send(new ProducerRecord<>(requestsTopic, id.getBytes(StandardCharsets.UTF_8),
                  request(id, texts.get(n % texts.size()))));
              JsonNode out = await(answer, name, id);
              long now = System.nanoTime();
              if (out.has("reason")) {
                throw new CommandFailure("bench run '" + name + "': request " + id + " was dead-lettered: "
                    + OutputRecords.text(out, "reason") + " " + OutputRecords.text(out, "message"));
              }
              latencies[n] = (now - sent) / 1e6;
              tokens.addAndGet(out.path("generated_tokens").asLong());
              lastSeen.accumulateAndGet(now, Math::max);
            }
          }, runnable -> {
            Thread t = new Thread(runnable, "nlpstream-bench-gpt-client-" + client);
            t.setDaemon(true);
            t.start();
          }));
        }
        CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).join();
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : e;
      } finally {
        done.set(true);
        try {
          watcher.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      double seconds = (lastSeen.get() - start) / 1e9;
      Arrays.sort(latencies);
      Phase phase = new Phase(total, tokens.get(), seconds, tokens.get() / seconds,
          PipelineLoad.percentile(latencies, 50), PipelineLoad.percentile(latencies, 99));
      System.err.printf(java.util.Locale.ROOT, "nlpstream bench: gpt %s: %d requests, %d tokens, %.1f tokens/s, p50 %.0f"
          + " ms, p99 %.0f ms%n", name, total, phase.tokens(), phase.tokensPerSecond(), phase.p50Ms(), phase.p99Ms());
      return phase;
    }
  }

  private static JsonNode await(CompletableFuture<JsonNode> answer, String name, String id) {
    try {
      return answer.get(10, TimeUnit.MINUTES);
    } catch (TimeoutException e) {
      throw new CommandFailure("bench run '" + name + "': no output for request " + id + " within 10 minutes");
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static byte[] request(String id, String text) {
    ObjectNode r = JSON.createObjectNode();
    r.put("input_id", id);
    r.put("kind", "summary");
    r.put("text", text);
    r.put("routed_by", "bench");
    try {
      return JSON.writeValueAsBytes(r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
