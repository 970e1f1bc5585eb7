package io.nlpstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.app.EnrichmentApp;
import io.nlpstream.app.GenerationApp;
import io.nlpstream.app.Pipeline;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.batch.TokenBudget;
import io.nlpstream.models.bert.TextAnalyzer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Benchmarks the BERT stage through a real (embedded) broker: one record per inference call
 * ({@code batch.max.size=1}) against the batched processor (the configured defaults), and the raw
 * encoder without Kafka on the same texts as the upper bound.
 *
 * <p>Load. Each mode runs two phases on the same texts, after a warm-up:
 * <ul>
 *   <li><b>saturated</b>: every record is produced at once, as fast as possible; the pipeline works
 *       through the backlog. records/s = records / (last enriched record seen - first send). This
 *       is the capacity; latencies in this phase only measure the backlog, so they are not
 *       reported as the latency figures.</li>
 *   <li><b>paced</b>: records are produced at a steady rate, the same for both modes (by default
 *       70% of the one-record-per-call capacity, so that neither mode queues up without bound).
 *       p50/p99 = produce time to the enriched record seen by a read_committed consumer, which
 *       includes Kafka Streams' commit interval under exactly_once_v2.</li>
 * </ul>
 * Open-loop pacing (sends at fixed times, independent of responses) is used because a closed loop
 * hides queueing delay (coordinated omission).
 *
 * <p>The GPT stage ({@code --stage gpt|all}) is measured through the broker too, without the BERT
 * stage: for each concurrency level C ({@code --gpt-concurrency}, default 8 and 32), C clients in a
 * closed loop each write summary requests to the requests topic and wait for the committed output
 * ({@link GenerationLoad}), against a GPT stage that decodes one request at a time
 * ({@code gpt.max.batch.size=1}) and one that batches continuously ({@code gpt.max.batch.size=C}).
 * Generated tokens/s and p50/p99 request latency, in the table and under {@code "gpt"} in the JSON.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Benchmarks the BERT stage through the embedded broker: one record per inference call vs the"
        + " batched processor, plus the raw encoder without Kafka; and the GPT stage: one request at a time vs"
        + " continuous batching at 8 and 32 concurrent requests. Prints tables and one JSON line."})
final class BenchCommand implements Callable<Integer> {

  private static final double PACED_FRACTION = 0.7;

  @Spec
  CommandSpec spec;

  @Mixin
  ConfigOptions configOptions;

  @Option(names = "--records", paramLabel = "N", defaultValue = "1000",
      description = "Records per phase (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "100",
      description = "Warm-up records per mode, not measured (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--rate", paramLabel = "RECORDS_PER_S", defaultValue = "0",
      description = "Producer rate of the paced phase; 0 (default) = " + (int) (PACED_FRACTION * 100)
          + "% of the measured one-record-per-call capacity.")
  double rate;

  @Option(names = "--data", paramLabel = "DIR",
      description = "Data sets directory (tweet_eval, AG News, DialogSum); default ../shared/data next to the"
          + " checkout, else the sample bundled in the jar.")
  Path data;

  @Option(names = "--stage", paramLabel = "STAGE", defaultValue = "all",
      description = "bert, gpt or all (default: ${DEFAULT-VALUE}).")
  String stage;

  @Option(names = "--gpt-concurrency", paramLabel = "C,...", defaultValue = "8,32", split = ",",
      description = "Concurrent requests of the GPT runs (default: ${DEFAULT-VALUE}).")
  List<Integer> gptConcurrency;

  @Option(names = "--gpt-requests-per-client", paramLabel = "N", defaultValue = "2",
      description = "Requests each GPT client sends per run (default: ${DEFAULT-VALUE}).")
  int gptPerClient;

  @Option(names = "--gpt-max-new-tokens", paramLabel = "N", defaultValue = "32",
      description = "max_new_tokens of the GPT runs (default: ${DEFAULT-VALUE}).")
  int gptMaxNewTokens;

  @Override
  public Integer call() throws IOException {
    if (records < 1 || warmup < 0 || gptPerClient < 1 || gptMaxNewTokens < 1
        || gptConcurrency.stream().anyMatch(c -> c < 1)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--records, --gpt-requests-per-client,"
          + " --gpt-max-new-tokens and --gpt-concurrency must be >= 1 and --warmup >= 0");
    }
    Pipeline.Stages stages = RunCommand.stages(stage);
    PrintWriter out = spec.commandLine().getOut();
    NlpstreamConfig base = configOptions.load(Map.of());
    BenchInputs.Texts inputs = BenchInputs.load(data != null ? data : BenchInputs.defaultDataDir(), records);
    System.err.println("nlpstream bench: " + records + " records per phase from " + inputs.origin());
    ObjectNode root = new ObjectMapper().createObjectNode();
    if (stages.bert()) {
      bert(out, inputs, base, root);
    }
    if (stages.gpt()) {
      gpt(out, inputs, base, root);
    }
    out.println(root);
    out.flush();
    return 0;
  }

  private void bert(PrintWriter out, BenchInputs.Texts inputs, NlpstreamConfig base, ObjectNode root) {

    PipelineLoad.Result single;
    PipelineLoad.Result batched;
    double pacedRate;
    try (TempDirectory work = TempDirectory.create("nlpstream-bench-");
         EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(work.resolve("kafka")).start()) {
      NlpstreamConfig singleConfig = modeConfig(broker, work, "single", Map.of(NlpstreamConfig.BATCH_MAX_SIZE, "1"));
      NlpstreamConfig batchedConfig = modeConfig(broker, work, "batched", Map.of());
      single = measure(singleConfig, inputs.texts(), rate);
      pacedRate = single.pacedRate();
      batched = measure(batchedConfig, inputs.texts(), pacedRate);
    }
    double raw = rawEncoder(base, inputs.texts());

    Map<String, Double> ratios = new LinkedHashMap<>();
    ratios.put("batched_vs_single_throughput", batched.saturated().recordsPerSecond() / single.saturated().recordsPerSecond());
    ratios.put("raw_encoder_vs_batched_throughput", raw / batched.saturated().recordsPerSecond());
    ratios.put("single_vs_batched_p50_latency", single.paced().p50Ms() / batched.paced().p50Ms());
    ratios.put("single_vs_batched_p99_latency", single.paced().p99Ms() / batched.paced().p99Ms());

    printTable(out, single, batched, raw, pacedRate, ratios);
    root.setAll(json(single, batched, raw, pacedRate, ratios, base));
  }

  /** One GPT run: its mode, concurrency and figures. */
  private record GptRun(String mode, int concurrency, GenerationLoad.Phase phase, double meanBatch) {}

  private void gpt(PrintWriter out, BenchInputs.Texts inputs, NlpstreamConfig base, ObjectNode root) {
    List<GptRun> runs = new ArrayList<>();
    String model;
    try (TempDirectory work = TempDirectory.create("nlpstream-bench-gpt-");
         EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(work.resolve("kafka")).start()) {
      model = null;
      for (int c : gptConcurrency) {
        for (String mode : List.of("one_at_a_time", "continuous")) {
          String name = mode + "-c" + c;
          Map<String, String> forced = new HashMap<>();
          forced.put(NlpstreamConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
          forced.put(NlpstreamConfig.STATE_DIR, work.resolve("state-" + name).toString());
          forced.put(NlpstreamConfig.GPT_APPLICATION_ID, "nlpstream-bench-gpt-" + name);
          forced.put(NlpstreamConfig.TOPIC_GPT_REQUESTS, "bench.gpt." + name + ".requests");
          forced.put(NlpstreamConfig.TOPIC_SUMMARIES, "bench.gpt." + name + ".summaries");
          forced.put(NlpstreamConfig.TOPIC_REPLIES, "bench.gpt." + name + ".replies");
          forced.put(NlpstreamConfig.TOPIC_DLQ, "bench.gpt." + name + ".dlq");
          forced.put(NlpstreamConfig.GPT_MAX_BATCH_SIZE, String.valueOf(mode.equals("continuous") ? c : 1));
          forced.put(NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY, String.valueOf(gptMaxNewTokens));
          forced.put(NlpstreamConfig.GPT_MAX_PENDING_PER_TASK, String.valueOf(Math.max(64, 2 * c)));
          NlpstreamConfig config = configOptions.load(Map.of(), forced);
          try (GenerationApp app = GenerationApp.start(config)) {
            app.running().orTimeout(2, java.util.concurrent.TimeUnit.MINUTES).join();
            model = app.stage().modelId();
            // Warm-up: ONNX Runtime allocates on its first calls.
            GenerationLoad.run(config, name + "-warmup", Math.min(c, 4), 1, inputs.texts());
            long stepsBefore = app.stage().generator().stats().decodeSteps();
            long rowsBefore = app.stage().generator().stats().decodedRows();
            GenerationLoad.Phase phase = GenerationLoad.run(config, name, c, gptPerClient, inputs.texts());
            long steps = app.stage().generator().stats().decodeSteps() - stepsBefore;
            long rows = app.stage().generator().stats().decodedRows() - rowsBefore;
            runs.add(new GptRun(mode, c, phase, steps == 0 ? 0 : (double) rows / steps));
          }
        }
      }
    }
    Table t = new Table("GPT stage", "concurrency", "requests", "tokens/s", "p50 ms", "p99 ms", "mean batch");
    for (GptRun r : runs) {
      t.row(r.mode().replace('_', ' '), String.valueOf(r.concurrency()), String.valueOf(r.phase().requests()),
          f1(r.phase().tokensPerSecond()), f1(r.phase().p50Ms()), f1(r.phase().p99Ms()), f1(r.meanBatch()));
    }
    out.println();
    t.print(out);
    ObjectNode gpt = root.putObject("gpt");
    for (GptRun r : runs) {
      ObjectNode n = child(gpt, "c" + r.concurrency()).putObject(r.mode());
      n.put("tokens_per_s", round(r.phase().tokensPerSecond()));
      n.put("p50_ms", round(r.phase().p50Ms()));
      n.put("p99_ms", round(r.phase().p99Ms()));
      n.put("mean_batch", round(r.meanBatch()));
    }
    for (int c : gptConcurrency) {
      ObjectNode level = child(gpt, "c" + c);
      double ratio = level.path("continuous").path("tokens_per_s").asDouble()
          / level.path("one_at_a_time").path("tokens_per_s").asDouble();
      level.put("continuous_vs_one_at_a_time_throughput", round(ratio));
      out.printf(Locale.ROOT, "GPT continuous batching vs one at a time, %d concurrent: %.2fx tokens/s%n", c, ratio);
    }
    ObjectNode setup = gpt.putObject("setup");
    setup.put("model", model);
    setup.put("max_new_tokens", gptMaxNewTokens);
    setup.put("requests_per_client", gptPerClient);
    setup.put("cores", Runtime.getRuntime().availableProcessors());
    setup.put("intra_op_threads", EnrichmentApp.intraOpThreads(base));
  }

  private NlpstreamConfig modeConfig(EmbeddedKafkaBroker broker, TempDirectory work, String mode, Map<String, String> imposed) {
    Map<String, String> forced = new HashMap<>(imposed);
    forced.put(NlpstreamConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
    forced.put(NlpstreamConfig.STATE_DIR, work.resolve("state-" + mode).toString());
    forced.put(NlpstreamConfig.APPLICATION_ID, "nlpstream-bench-" + mode);
    forced.put(NlpstreamConfig.TOPIC_INPUT, "bench." + mode + ".in");
    forced.put(NlpstreamConfig.TOPIC_ENRICHED, "bench." + mode + ".enriched");
    forced.put(NlpstreamConfig.TOPIC_DLQ, "bench." + mode + ".dlq");
    forced.put(NlpstreamConfig.TOPIC_GPT_REQUESTS, "bench." + mode + ".gpt.requests");
    return configOptions.load(Map.of(), forced);
  }

  /**
   * Starts the service with {@code config} and runs warm-up, saturated and paced phases on it.
   *
   * @param pacedRate records/s of the paced phase; 0 = {@value #PACED_FRACTION} of this mode's capacity
   */
  private PipelineLoad.Result measure(NlpstreamConfig config, List<String> texts, double pacedRate) {
    try (EnrichmentApp app = EnrichmentApp.start(config)) {
      app.awaitRunning(Duration.ofMinutes(2));
      PipelineLoad load = new PipelineLoad(config);
      load.run("warmup", texts.subList(0, Math.min(warmup, texts.size())), 0);
      PipelineLoad.Phase saturated = load.run("saturated", texts, 0);
      double rate = pacedRate > 0 ? pacedRate : PACED_FRACTION * saturated.recordsPerSecond();
      return new PipelineLoad.Result(saturated, load.run("paced", texts, rate), rate);
    }
  }

  /**
   * The analyzer alone on the same texts, sorted by length and cut by the configured token budget
   * and batch size: what the encoder can do with perfect batches and no Kafka. Records/s.
   */
  private static double rawEncoder(NlpstreamConfig config, List<String> texts) {
    int maxTokens = config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS);
    int maxSize = config.getInt(NlpstreamConfig.BATCH_MAX_SIZE);
    try (TextAnalyzer analyzer = EnrichmentApp.openAnalyzer(config)) {
      List<List<String>> batches = new ArrayList<>();
      for (int[] idx : TokenBudget.partition(texts, analyzer::tokenCount, maxTokens, maxSize)) {
        List<String> batch = new ArrayList<>(idx.length);
        Arrays.stream(idx).forEach(i -> batch.add(texts.get(i)));
        batches.add(batch);
      }
      // Warm-up: ONNX Runtime allocates and tunes on its first calls.
      batches.stream().limit(3).forEach(analyzer::analyze);
      long start = System.nanoTime();
      for (List<String> batch : batches) {
        analyzer.analyze(batch);
      }
      return texts.size() / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static void printTable(PrintWriter out, PipelineLoad.Result single, PipelineLoad.Result batched, double raw,
                                 double pacedRate, Map<String, Double> ratios) {
    Table t = new Table("mode", "records/s (saturated)", "p50 ms (paced)", "p99 ms (paced)",
        "p50 ms (backlog)", "p99 ms (backlog)");
    for (var e : Map.of("single (batch.max.size=1)", single, "batched", batched).entrySet().stream()
        .sorted(Map.Entry.comparingByKey(Comparator.reverseOrder())).toList()) {
      PipelineLoad.Result r = e.getValue();
      t.row(e.getKey(), f1(r.saturated().recordsPerSecond()), f1(r.paced().p50Ms()), f1(r.paced().p99Ms()),
          f1(r.saturated().p50Ms()), f1(r.saturated().p99Ms()));
    }
    t.row("raw encoder (no Kafka)", f1(raw), "", "", "", "");
    out.println();
    t.print(out);
    out.printf(Locale.ROOT, "%nPaced phase: %.1f records/s offered to both modes (achieved: single %.1f, batched %.1f).%n",
        pacedRate, single.paced().sendRate(), batched.paced().sendRate());
    ratios.forEach((k, v) -> out.printf(Locale.ROOT, "%-36s %.2f%n", k, v));
  }

  private static ObjectNode json(PipelineLoad.Result single, PipelineLoad.Result batched, double raw, double pacedRate,
                                 Map<String, Double> ratios, NlpstreamConfig config) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    for (var e : List.of(Map.entry("single", single), Map.entry("batched", batched))) {
      ObjectNode n = root.putObject(e.getKey());
      n.put("records_per_s", round(e.getValue().saturated().recordsPerSecond()));
      n.put("p50_ms", round(e.getValue().paced().p50Ms()));
      n.put("p99_ms", round(e.getValue().paced().p99Ms()));
    }
    root.put("raw_encoder_records_per_s", round(raw));
    ObjectNode r = root.putObject("ratios");
    ratios.forEach((k, v) -> r.put(k, round(v)));
    ObjectNode c = root.putObject("setup");
    c.put("records", single.saturated().records());
    c.put("paced_rate_per_s", round(pacedRate));
    c.put("cores", Runtime.getRuntime().availableProcessors());
    c.put("intra_op_threads", EnrichmentApp.intraOpThreads(config));
    c.put("batch_max_size", config.getInt(NlpstreamConfig.BATCH_MAX_SIZE));
    c.put("batch_max_tokens", config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS));
    c.put("batch_max_wait_ms", config.getLong(NlpstreamConfig.BATCH_MAX_WAIT_MS));
    c.put("processing_guarantee", config.getString(NlpstreamConfig.PROCESSING_GUARANTEE));
    return root;
  }

  private static ObjectNode child(ObjectNode parent, String name) {
    return parent.get(name) instanceof ObjectNode existing ? existing : parent.putObject(name);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

}
