package io.nlpstream.models.gpt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Generation throughput and latency of one model directory: one-at-a-time decoding (batch size 1)
 * against continuous batching, each driven by N concurrent clients in a closed loop (a client
 * submits, waits for its result, submits the next). Prints figures; asserts nothing.
 *
 * <pre>
 * java -cp ... io.nlpstream.models.gpt.GenerationBench MODEL_DIR [--requests-per-client 4]
 *     [--max-new-tokens 32] [--concurrency 8,32] [--intra-op-threads N] [--kind summary|reply]
 *     [--max-words 120]
 * </pre>
 *
 * Requests use the {@code plain} templates and greedy decoding, so both modes do the same work and
 * produce the same tokens; inputs are synthetic texts of varied length (8 to {@code --max-words} words).
 */
public final class GenerationBench {

  private GenerationBench() {}

  private record Run(String mode, int concurrency, int requests, long tokens, double seconds,
                     List<Duration> latencies, List<Duration> firstTokens, double meanBatch,
                     double prefillSeconds, double decodeSeconds, double promptTokens) {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: GenerationBench MODEL_DIR [--requests-per-client N] [--max-new-tokens N]"
          + " [--concurrency 8,32] [--intra-op-threads N] [--kind summary|reply] [--max-words 120]");
      System.exit(2);
    }
    Path modelDir = Path.of(args[0]);
    int perClient = 4;
    int maxNew = 32;
    int threads = Runtime.getRuntime().availableProcessors();
    List<Integer> concurrencies = List.of(8, 32);
    GenerationKind kind = GenerationKind.SUMMARY;
    int maxWords = 120;
    for (int i = 1; i < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--requests-per-client" -> perClient = Integer.parseInt(value);
        case "--max-new-tokens" -> maxNew = Integer.parseInt(value);
        case "--intra-op-threads" -> threads = Integer.parseInt(value);
        case "--kind" -> kind = GenerationKind.fromWireName(value);
        case "--max-words" -> maxWords = Integer.parseInt(value);
        case "--concurrency" -> {
          List<Integer> c = new ArrayList<>();
          for (String s : value.split(",")) {
            c.add(Integer.parseInt(s.trim()));
          }
          concurrencies = c;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Run> runs = new ArrayList<>();
    try (OrtSession.SessionOptions sessionOptions = new OrtSession.SessionOptions()) {
      sessionOptions.setIntraOpNumThreads(threads);
      System.out.printf(Locale.ROOT, "model %s, %d intra-op threads, max_new_tokens %d, kind %s, %d requests per client,"
          + " inputs of 8-%d words%n", modelDir, threads, maxNew, kind.wireName(), perClient, maxWords);
      for (int concurrency : concurrencies) {
        int requests = perClient * concurrency;
        runs.add(run(modelDir, env, sessionOptions, "one-at-a-time", 1, concurrency, requests, maxNew, kind,
            maxWords));
        runs.add(run(modelDir, env, sessionOptions, "continuous", concurrency, concurrency, requests, maxNew, kind,
            maxWords));
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "%-14s %5s %6s %7s %8s %8s %10s %9s %9s %9s %6s %9s %9s%n", "mode", "conc",
        "reqs", "prompt", "tokens", "wall_s", "tokens/s", "p50_ms", "p99_ms", "ttft_p50", "batch", "prefill_s",
        "decode_s");
    for (Run r : runs) {
      System.out.printf(Locale.ROOT, "%-14s %5d %6d %7.0f %8d %8.2f %10.1f %9.1f %9.1f %9.1f %6.2f %9.2f %9.2f%n",
          r.mode(), r.concurrency(), r.requests(), r.promptTokens(), r.tokens(), r.seconds(), r.tokens() / r.seconds(),
          millis(percentile(r.latencies(), 50)), millis(percentile(r.latencies(), 99)),
          millis(percentile(r.firstTokens(), 50)), r.meanBatch(), r.prefillSeconds(), r.decodeSeconds());
    }
    System.out.println("prompt: mean prompt tokens; batch: mean sequences per decode step; prefill_s/decode_s:"
        + " time inside the decoder's prefill and decode calls");
  }

  private static Run run(Path modelDir, OrtEnvironment env, OrtSession.SessionOptions sessionOptions, String mode,
                         int maxBatch, int concurrency, int requests, int maxNew, GenerationKind kind,
                         int maxWords)
      throws InterruptedException {
    GeneratorOptions options = GeneratorOptions.builder().maxBatchSize(maxBatch)
        .maxWaiting(Math.max(256, 2 * concurrency)).build();
    try (Generator generator = Generator.open(modelDir, env, sessionOptions, options)) {
      // Warm-up: first-call allocations and ORT's lazy initialisation stay out of the figures.
      for (int i = 0; i < 2; i++) {
        generator.submit(request(kind, -1 - i, maxNew, maxWords)).join();
      }
      GeneratorStats before = generator.stats();
      ConcurrentLinkedQueue<Generation> results = new ConcurrentLinkedQueue<>();
      AtomicInteger next = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(concurrency);
      List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
      long start = System.nanoTime();
      for (int c = 0; c < concurrency; c++) {
        Thread client = new Thread(() -> {
          try {
            for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
              results.add(generator.submit(request(kind, i, maxNew, maxWords)).join());
            }
          } catch (RuntimeException e) {
            failures.add(e);
          } finally {
            done.countDown();
          }
        }, "bench-client-" + c);
        client.start();
      }
      done.await();
      double seconds = (System.nanoTime() - start) / 1e9;
      if (!failures.isEmpty()) {
        throw new IllegalStateException(failures.size() + " requests failed", failures.get(0));
      }
      GeneratorStats after = generator.stats();
      long tokens = 0;
      List<Duration> latencies = new ArrayList<>();
      List<Duration> firstTokens = new ArrayList<>();
      for (Generation g : results) {
        tokens += g.generatedTokens();
        latencies.add(g.latency());
        firstTokens.add(g.timeToFirstToken());
      }
      double meanBatch = (double) (after.decodedRows() - before.decodedRows())
          / Math.max(1, after.decodeSteps() - before.decodeSteps());
      long promptTokens = 0;
      for (Generation g : results) {
        promptTokens += g.promptTokens();
      }
      System.out.printf(Locale.ROOT, "%s, %d clients: %d tokens in %.2f s%n", mode, concurrency, tokens, seconds);
      return new Run(mode, concurrency, requests, tokens, seconds, latencies, firstTokens, meanBatch,
          (after.prefillNanos() - before.prefillNanos()) / 1e9, (after.decodeNanos() - before.decodeNanos()) / 1e9,
          (double) promptTokens / Math.max(1, results.size()));
    }
  }

  private static final String[] WORDS = ("the stream processor reads events from the input topic and writes"
      + " enriched records every record carries an id a text and a timestamp we meet tomorrow at ten to talk"
      + " about the new release and the numbers of the last quarter").split(" ");

  /** A deterministic synthetic input of 8 to {@code maxWords} words. */
  static GenerationRequest request(GenerationKind kind, int i, int maxNew, int maxWords) {
    int words = 8 + Math.floorMod(i * 37, Math.max(1, maxWords - 7));
    StringBuilder text = new StringBuilder();
    for (int w = 0; w < words; w++) {
      if (kind == GenerationKind.REPLY && w % 12 == 0) {
        text.append(w == 0 ? "" : "\n").append(w % 24 == 0 ? "A: " : "B: ");
      } else if (w > 0) {
        text.append(' ');
      }
      text.append(WORDS[Math.floorMod(i * 7 + w * 13, WORDS.length)]);
    }
    return new GenerationRequest("bench-" + i, kind, text.toString(), DecodingParams.greedy(maxNew));
  }

  private static Duration percentile(List<Duration> values, int p) {
    if (values.isEmpty()) {
      return Duration.ZERO;
    }
    List<Duration> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static double millis(Duration d) {
    return d.toNanos() / 1e6;
  }
}
