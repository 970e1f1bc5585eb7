package io.nlpstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.app.KafkaClientSettings;
import io.nlpstream.app.Pipeline;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.ops.Observability;
import io.nlpstream.topology.GenerationCounters;
import io.nlpstream.topology.PipelineCounters;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The whole pipeline on one machine: an embedded Kafka broker, both stages (BERT and GPT, each its
 * own Kafka Streams client), a sample file sent line by line, and every record followed until it is
 * accounted for in the enriched topic or the dead-letter topic (matched by its input partition and
 * offset), and every GPT request until it is answered in the summaries or replies topic or
 * dead-lettered by the GPT stage (matched by input id and kind).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Starts an embedded Kafka broker and the pipeline (BERT and GPT stages), sends each line of the"
        + " input file as one record, waits until every record is enriched or dead-lettered and every routed one"
        + " summarised or replied to, writes each output topic to <out>/<topic>.jsonl and an HTML report to"
        + " <out>/report.html, and prints the results."})
final class DemoCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** A free port for the operations endpoint, so that the demo never collides with a running service. */
  private static final Map<String, String> DEMO_DEFAULTS = Map.of(NlpstreamConfig.APPLICATION_ID, "nlpstream-demo",
      NlpstreamConfig.GPT_APPLICATION_ID, "nlpstream-demo-generate",
      // Short generations keep the demo within a few minutes on two cores.
      NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY, "48", NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY, "32",
      NlpstreamConfig.METRICS_PORT, "0");

  @Spec
  CommandSpec spec;

  @Mixin
  ConfigOptions configOptions;

  @Option(names = "--input", paramLabel = "FILE",
      description = "Input file: one record value per line, bytes sent as they are, no key."
          + " Default: samples/demo-input.jsonl of the nlpstream checkout.")
  Path input;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out",
      description = "Where the output topics are written as JSON lines (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--report", paramLabel = "FILE",
      description = "Where the HTML report of the run is written (self-contained: counts, latency histogram,"
          + " label distributions). Default: <out>/report.html.")
  Path report;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "Fails if a record is not accounted for within this time after sending (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    // Validate the configuration before spending seconds on a broker.
    configOptions.load(DEMO_DEFAULTS);
    Path file = input != null ? input : NlpstreamHome.directory().resolve("samples/demo-input.jsonl");
    if (!Files.isRegularFile(file)) {
      throw new CommandFailure("input file " + file + " does not exist (--input)");
    }
    List<byte[]> lines = InputLines.read(file);
    if (lines.isEmpty()) {
      throw new CommandFailure("input file " + file + " holds no line");
    }
    long started = System.nanoTime();
    DemoResult result;
    PipelineCounters.Snapshot counts;
    GenerationCounters.Snapshot generation;
    try (TempDirectory work = TempDirectory.create("nlpstream-demo-");
         EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(work.resolve("kafka")).start()) {
      NlpstreamConfig config = configOptions.load(DEMO_DEFAULTS, Map.of(
          NlpstreamConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers(),
          NlpstreamConfig.STATE_DIR, work.resolve("state").toString()));
      System.err.printf("nlpstream demo: Kafka broker at %s (log: %s)%n", broker.bootstrapServers(), broker.logFile());
      // Ctrl-C: stop the broker JVM and remove the working directory on the way out.
      Thread cleanup = new Thread(() -> {
        broker.close();
        work.close();
      }, "nlpstream-demo-cleanup");
      Runtime.getRuntime().addShutdownHook(cleanup);
      try (Observability observability = Observability.start(config)) {
        observability.address().ifPresent(a -> System.err.printf(
            "nlpstream demo: metrics at http://%s:%d/metrics, health at /health and /ready%n",
            a.getHostString(), a.getPort()));
        try (Pipeline app = Pipeline.start(config, Pipeline.Stages.ALL, observability)) {
          app.awaitRunning(Duration.ofMinutes(2));
          long sendStart = System.nanoTime();
          List<Sent> sent = send(config, lines);
          System.err.printf("nlpstream demo: sent %d records from %s to %s%n", sent.size(), file,
              config.getString(NlpstreamConfig.TOPIC_INPUT));
          result = collect(config, sent, sendStart, Duration.ofSeconds(timeoutSeconds));
          counts = app.enrichment().counters().snapshot();
          generation = app.generation().stage().counters().snapshot();
        }
      } catch (RuntimeException e) {
        work.keep();
        System.err.printf("nlpstream demo: failed; kept %s (broker.log in kafka/, Kafka Streams state) for inspection%n",
            work.path());
        throw e;
      } finally {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      }
    }
    result.writeFiles(out);
    result.printTable(stdout);
    stdout.printf("Pipeline meters (the registry /metrics serves): BERT stage %s%n  GPT stage %s%n", counts, generation);
    double seconds = (System.nanoTime() - started) / 1e9;
    Path reportFile = report != null ? report : out.resolve("report.html");
    result.report(String.format(Locale.ROOT, "%d records from %s, %.1f s wall time", lines.size(), file, seconds),
        counts, generation).write(reportFile);
    stdout.printf("%nOutputs written to %s (%s). Report: %s. Wall time %.1f s.%n", out.toAbsolutePath(),
        String.join(", ", result.byTopic.keySet().stream().map(t -> t + ".jsonl").toList()),
        reportFile.toAbsolutePath(), seconds);
    stdout.flush();
    result.check();
    return 0;
  }

  private static List<Sent> send(NlpstreamConfig config, List<byte[]> lines) throws InterruptedException {
    Map<String, Object> producerConfig = KafkaClientSettings.producer(config);
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    String topic = config.getString(NlpstreamConfig.TOPIC_INPUT);
    List<Future<RecordMetadata>> futures = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (byte[] line : lines) {
        futures.add(producer.send(new ProducerRecord<>(topic, null, line)));
      }
      producer.flush();
    }
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < futures.size(); i++) {
      try {
        RecordMetadata m = futures.get(i).get();
        sent.add(new Sent(i + 1, m.partition(), m.offset(), lines.get(i).length));
      } catch (ExecutionException e) {
        throw new CommandFailure("the broker refused line " + (i + 1) + " (" + lines.get(i).length + " bytes): "
            + e.getCause());
      }
    }
    return sent;
  }

  private static DemoResult collect(NlpstreamConfig config, List<Sent> sent, long sendStartNanos, Duration timeout) {
    String enriched = config.getString(NlpstreamConfig.TOPIC_ENRICHED);
    String dlq = config.getString(NlpstreamConfig.TOPIC_DLQ);
    String gpt = config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS);
    String summaries = config.getString(NlpstreamConfig.TOPIC_SUMMARIES);
    String replies = config.getString(NlpstreamConfig.TOPIC_REPLIES);
    String inputTopic = config.getString(NlpstreamConfig.TOPIC_INPUT);
    DemoResult result = new DemoResult(sent, inputTopic, enriched, gpt, dlq, summaries, replies, sendStartNanos);
    Progress progress = new Progress(sent.size());
    long deadline = System.nanoTime() + timeout.toNanos();
    try (TopicReader reader = new TopicReader(config, List.of(enriched, gpt, dlq, summaries, replies), false)) {
      // Done when every input and every GPT request read is accounted for and nothing committed is
      // left unread (a routed request may become visible in a later poll than its enriched record).
      while (System.nanoTime() < deadline && (result.pending() > 0 || !reader.caughtUp())) {
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
          result.add(r.topic(), r.value(), System.nanoTime());
        }
        progress.show(result);
      }
      // Records of one transaction become visible together, but the reader may not have fetched
      // every partition yet: read up to the end so the files hold everything that was committed.
      while (!reader.caughtUp() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
          result.add(r.topic(), r.value(), System.nanoTime());
        }
      }
    }
    progress.finish(result);
    if (result.pending() > 0) {
      throw new CommandFailure(result.pending() + " records or GPT requests were not accounted for within "
          + timeout.toSeconds() + " s (--timeout); missing input lines: " + result.missingLines()
          + "; unanswered GPT requests: " + result.unansweredRequests());
    }
    return result;
  }

  /** One record sent: its input line number and where the broker put it. */
  record Sent(int line, int partition, long offset, int bytes) {}

  /** Everything read back from the output topics, matched to the records sent. */
  static final class DemoResult {
    private final List<Sent> sent;
    private final String inputTopic;
    private final String enrichedTopic;
    private final String gptTopic;
    private final String summariesTopic;
    private final String repliesTopic;
    private final Map<String, List<JsonNode>> byTopic = new LinkedHashMap<>();
    /** GPT requests by {@code <kind>/<input id>}, and what answered each: a generation or a GPT-stage dead letter. */
    private final Map<String, JsonNode> requests = new TreeMap<>();
    private final Map<String, JsonNode> answers = new HashMap<>();
    private final Map<String, Sent> sentByCoordinates = new HashMap<>();
    private final Map<Integer, JsonNode> enrichedByLine = new TreeMap<>();
    private final Map<Integer, JsonNode> deadByLine = new TreeMap<>();
    private final Map<String, JsonNode> gptById = new HashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final long sendStartNanos;
    private final List<Double> latencyMs = new ArrayList<>();

    DemoResult(List<Sent> sent, String inputTopic, String enrichedTopic, String gptTopic, String deadLetterTopic,
               String summariesTopic, String repliesTopic, long sendStartNanos) {
      this.sent = sent;
      this.sendStartNanos = sendStartNanos;
      this.inputTopic = inputTopic;
      this.enrichedTopic = enrichedTopic;
      this.gptTopic = gptTopic;
      this.summariesTopic = summariesTopic;
      this.repliesTopic = repliesTopic;
      List.of(enrichedTopic, gptTopic, deadLetterTopic, summariesTopic, repliesTopic)
          .forEach(t -> byTopic.put(t, new ArrayList<>()));
      sent.forEach(s -> sentByCoordinates.put(s.partition() + "@" + s.offset(), s));
    }

    /** One output record, read at {@code seenNanos} ({@link System#nanoTime()}). */
    void add(String topic, byte[] value, long seenNanos) {
      JsonNode node = OutputRecords.parse(value);
      byTopic.get(topic).add(node);
      boolean isEnriched = topic.equals(enrichedTopic);
      if (topic.equals(gptTopic)) {
        String id = OutputRecords.text(node, "input_id");
        if (id != null) {
          gptById.put(id, node);
          requests.put(OutputRecords.kind(node) + "/" + id, node);
        }
        return;
      }
      if (topic.equals(summariesTopic) || topic.equals(repliesTopic)) {
        answer(OutputRecords.kind(node) + "/" + OutputRecords.text(node, "input_id"), node, topic);
        return;
      }
      if ("gpt".equals(OutputRecords.text(node, "stage"))) {
        // A GPT-stage dead letter: its source is the request, its id the input id; the kind is in the request bytes.
        String id = OutputRecords.text(node, "id");
        String kind = OutputRecords.kindOfDeadLetteredRequest(node);
        answer(kind + "/" + id, node, topic);
        return;
      }
      OutputRecords.Coordinates c = isEnriched ? OutputRecords.sourceOfEnriched(node) : OutputRecords.sourceOfDeadLetter(node);
      Sent s = c == null || !inputTopic.equals(c.topic()) ? null : sentByCoordinates.get(c.partition() + "@" + c.offset());
      if (s == null) {
        problems.add("an output record in " + topic + " matches no record sent: " + abbreviate(node.toString(), 160));
        return;
      }
      Map<Integer, JsonNode> target = isEnriched ? enrichedByLine : deadByLine;
      if (enrichedByLine.containsKey(s.line()) || deadByLine.containsKey(s.line())) {
        problems.add("input line " + s.line() + " has more than one result (a second one in " + topic + ")");
        return;
      }
      target.put(s.line(), node);
      latencyMs.add((seenNanos - sendStartNanos) / 1e6);
    }

    /** The HTML report: counts from the topics read back, labels of the enriched records, the registry's figures. */
    DemoReport report(String title, PipelineCounters.Snapshot meters, GenerationCounters.Snapshot gpt) {
      Map<String, Long> counts = new LinkedHashMap<>();
      counts.put("sent to " + inputTopic, (long) sent.size());
      byTopic.forEach((topic, records) -> counts.put(topic, (long) records.size()));
      counts.put("not accounted for", (long) pending());
      Map<String, Long> reasons = new TreeMap<>();
      deadByLine.values().forEach(n -> reasons.merge(String.valueOf(OutputRecords.text(n, "reason")), 1L, Long::sum));
      Map<String, Long> sentiment = new TreeMap<>();
      Map<String, Long> topClass = new TreeMap<>();
      Map<String, Long> entityTypes = new TreeMap<>();
      for (JsonNode e : enrichedByLine.values()) {
        sentiment.merge(e.path("sentiment").path("label").asText("?"), 1L, Long::sum);
        String top = OutputRecords.topClass(e);
        if (!top.isEmpty()) {
          topClass.merge(top.substring(0, top.lastIndexOf(' ')), 1L, Long::sum);
        }
        e.path("entities").forEach(en -> entityTypes.merge(en.path("type").asText("?"), 1L, Long::sum));
      }
      Map<String, String> pipeline = new LinkedHashMap<>();
      pipeline.put("records in (" + PipelineCounters.RECORDS_IN + ")", String.valueOf(meters.in()));
      pipeline.put("enriched", String.valueOf(meters.enriched()));
      pipeline.put("GPT requests", String.valueOf(meters.gptRequests()));
      pipeline.put("dead letters", meters.deadLettersTotal() + " " + meters.deadLetters());
      pipeline.put("inference batches", String.valueOf(meters.batches()));
      pipeline.put("mean batch size", meters.batches() == 0 ? "-"
          : String.format(Locale.ROOT, "%.1f", (double) meters.batchedItems() / meters.batches()));
      pipeline.put("padding (padded tokens not real)", meters.paddedTokens() == 0 ? "-"
          : String.format(Locale.ROOT, "%.0f%%", 100.0 * (meters.paddedTokens() - meters.batchedTokens())
              / meters.paddedTokens()));
      pipeline.put("mean inference time per batch", meters.batches() == 0 ? "-"
          : String.format(Locale.ROOT, "%.1f ms", meters.inferenceNanos() / 1e6 / meters.batches()));
      pipeline.put("GPT stage: requests in", String.valueOf(gpt.requests()));
      pipeline.put("GPT stage: summaries and replies", String.valueOf(gpt.generated()));
      pipeline.put("GPT stage: duplicates skipped", String.valueOf(gpt.duplicates()));
      pipeline.put("GPT stage: dead letters", gpt.deadLettersTotal() + " " + gpt.deadLetters());
      pipeline.put("GPT stage: generated tokens", String.valueOf(gpt.generatedTokens()));
      pipeline.put("GPT stage: decoder calls (prefill and decode steps)", String.valueOf(gpt.decoderCalls()));
      pipeline.put("GPT stage: mean sequences per decoder call", gpt.decoderCalls() == 0 ? "-"
          : String.format(Locale.ROOT, "%.1f", (double) gpt.decodedSequences() / gpt.decoderCalls()));
      pipeline.put("GPT stage: generation throughput (tokens per second of decoder time)",
          gpt.inferenceNanos() == 0 ? "-"
              : String.format(Locale.ROOT, "%.1f", gpt.generatedTokens() / (gpt.inferenceNanos() / 1e9)));
      return new DemoReport(title, counts, reasons, List.copyOf(latencyMs), sentiment, topClass, entityTypes,
          pipeline);
    }

    int accounted() {
      return enrichedByLine.size() + deadByLine.size();
    }

    private void answer(String key, JsonNode node, String topic) {
      if (answers.putIfAbsent(key, node) != null) {
        problems.add("GPT request " + key + " has more than one answer (a second one in " + topic + ")");
      }
    }

    int pending() {
      return sent.size() - accounted() + (int) requests.keySet().stream().filter(k -> !answers.containsKey(k)).count();
    }

    int answered() {
      return (int) requests.keySet().stream().filter(answers::containsKey).count();
    }

    String unansweredRequests() {
      return requests.keySet().stream().filter(k -> !answers.containsKey(k)).collect(Collectors.joining(", "));
    }

    String missingLines() {
      return sent.stream().map(Sent::line)
          .filter(l -> !enrichedByLine.containsKey(l) && !deadByLine.containsKey(l))
          .map(String::valueOf).collect(Collectors.joining(", "));
    }

    void writeFiles(Path dir) {
      try {
        Files.createDirectories(dir);
        for (Map.Entry<String, List<JsonNode>> e : byTopic.entrySet()) {
          try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(e.getKey() + ".jsonl"), StandardCharsets.UTF_8)) {
            for (JsonNode n : e.getValue()) {
              w.write(JSON.writeValueAsString(n));
              w.newLine();
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the demo output to " + dir, e);
      }
    }

    void printTable(PrintWriter out) {
      Table table = new Table("line", "id", "sentiment", "top class", "entities", "generated (GPT stage)");
      for (Sent s : sent) {
        JsonNode e = enrichedByLine.get(s.line());
        JsonNode d = deadByLine.get(s.line());
        if (e != null) {
          String id = OutputRecords.text(e, "id");
          JsonNode gpt = id == null ? null : gptById.get(id);
          table.row(String.valueOf(s.line()), abbreviate(id, 22), OutputRecords.sentiment(e),
              OutputRecords.topClass(e), abbreviate(OutputRecords.entities(e), 40),
              gpt == null ? "" : generated(OutputRecords.kind(gpt), answers.get(OutputRecords.kind(gpt) + "/" + id)));
        } else if (d != null) {
          table.row(String.valueOf(s.line()), abbreviate(OutputRecords.text(d, "id"), 22),
              "DLQ " + OutputRecords.text(d, "reason"), "", abbreviate(OutputRecords.text(d, "message"), 60), "");
        }
      }
      table.print(out);
      Map<String, Long> reasons = deadByLine.values().stream()
          .collect(Collectors.groupingBy(n -> String.valueOf(OutputRecords.text(n, "reason")), TreeMap::new,
              Collectors.counting()));
      long gptDead = answers.values().stream().filter(n -> n.has("reason")).count();
      out.printf("%nSent %d records: %d enriched, %d dead-lettered %s, %d routed to the GPT stage: %d summaries,"
              + " %d replies, %d dead-lettered.%n",
          sent.size(), enrichedByLine.size(), deadByLine.size(), reasons, requests.size(),
          byTopic.get(summariesTopic).size(), byTopic.get(repliesTopic).size(), gptDead);
    }

    /** {@code reply: "the text"}, or the GPT stage's dead-letter reason. */
    private static String generated(String kind, JsonNode answer) {
      if (answer == null) {
        return kind + ": (none)";
      }
      if (answer.has("reason")) {
        return kind + ": DLQ " + OutputRecords.text(answer, "reason");
      }
      return kind + ": \"" + abbreviate(OutputRecords.text(answer, "text"), 60) + "\"";
    }

    /** Fails the command on duplicates or unmatched outputs, after they were shown. */
    void check() {
      if (!problems.isEmpty()) {
        throw new CommandFailure("the outputs do not match the inputs one to one:\n  " + String.join("\n  ", problems));
      }
    }
  }

  /** The waiting line: rewritten in place on a terminal, a line every few seconds otherwise. */
  private static final class Progress {
    private final int total;
    private final boolean terminal = System.console() != null;
    private final long start = System.nanoTime();
    private long lastPrinted;

    Progress(int total) {
      this.total = total;
    }

    void show(DemoResult r) {
      long now = System.nanoTime();
      long every = terminal ? TimeUnit.MILLISECONDS.toNanos(200) : TimeUnit.SECONDS.toNanos(5);
      if (now - lastPrinted < every) {
        return;
      }
      lastPrinted = now;
      String line = line(r);
      if (terminal) {
        System.err.print("\r" + line);
      } else {
        System.err.println(line);
      }
      System.err.flush();
    }

    void finish(DemoResult r) {
      System.err.print((terminal ? "\r" : "") + line(r) + System.lineSeparator());
      System.err.flush();
    }

    private String line(DemoResult r) {
      return String.format("nlpstream demo: accounted for %d/%d records (%d enriched, %d dead-lettered), %d/%d GPT"
              + " requests answered after %.1f s   ", r.accounted(), total, r.enrichedByLine.size(),
          r.deadByLine.size(), r.answered(), r.requests.size(), (System.nanoTime() - start) / 1e9);
    }
  }

  static String abbreviate(String s, int max) {
    if (s == null) {
      return "";
    }
    String oneLine = s.replaceAll("\\s+", " ");
    return oneLine.length() <= max ? oneLine : oneLine.substring(0, max - 1) + "…";
  }

}
