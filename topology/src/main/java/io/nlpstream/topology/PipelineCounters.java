package io.nlpstream.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The meters of one pipeline stage ({@code bert}, {@code gpt}) in a Micrometer registry: records in,
 * out and dead-lettered by reason and step, batch sizes and tokens, inference and in-stage latency,
 * buffered and queued records; for the GPT stage also the running sequences, generated and prompt
 * tokens, duplicates skipped and offers its generator refused. The registry is the one source of truth: the
 * {@link #snapshot()} the command line prints (and the GPT stage's {@link GenerationCounters}) read
 * these meters, and {@code /metrics} serves them.
 * Every meter carries the tag {@code stage}; {@link #METERS} lists them all (the README's metrics
 * table is generated from it, and a unit test holds the two together).
 *
 * <p>Thread-safe: stream threads, the batcher thread and the exception handlers record into one
 * instance. Counts are of records <em>handled</em> by this process: under exactly-once a record
 * whose transaction aborts is processed again and counted again.
 *
 * <p>Ownership: created by its stage, which {@link #close() closes} it when it stops, removing its
 * meters from the registry (the registry itself belongs to the process). A closed instance still
 * answers {@link #snapshot()}.
 */
public final class PipelineCounters implements DeadLetterCounter, AutoCloseable {

  /** Tag of every meter: the pipeline stage ({@code bert}, {@code gpt}), as in {@code run --stage}. */
  public static final String STAGE_TAG = "stage";

  public static final String RECORDS_IN = "nlpstream.records.in";
  public static final String RECORDS_OUT = "nlpstream.records.out";
  public static final String DEAD_LETTERS = "nlpstream.records.dead.lettered";
  public static final String BATCH_SIZE = "nlpstream.batch.size";
  public static final String BATCH_TOKENS = "nlpstream.batch.tokens";
  public static final String BATCH_PADDED_TOKENS = "nlpstream.batch.padded.tokens";
  public static final String INFERENCE_LATENCY = "nlpstream.inference.latency";
  public static final String STAGE_LATENCY = "nlpstream.stage.latency";
  public static final String BUFFERED = "nlpstream.buffered.records";
  public static final String QUEUED = "nlpstream.batcher.queued.records";
  public static final String RUNNING = "nlpstream.generator.running.sequences";
  public static final String GENERATED_TOKENS = "nlpstream.generated.tokens";
  public static final String PROMPT_TOKENS = "nlpstream.prompt.tokens";
  public static final String DUPLICATES = "nlpstream.records.duplicate";
  public static final String REFUSED = "nlpstream.batcher.refused";
  public static final String MODEL_INFO = "nlpstream.model.loaded";

  /** Output kinds of {@link #RECORDS_OUT} written by the BERT stage. */
  public static final String OUTPUT_ENRICHED = "enriched";
  public static final String OUTPUT_GPT_REQUEST = "gpt_request";
  /** Output kinds of {@link #RECORDS_OUT} written by the GPT stage (the request kinds). */
  public static final String OUTPUT_SUMMARY = "summary";
  public static final String OUTPUT_REPLY = "reply";

  /** The stage names, as in {@code run --stage} and the {@value #STAGE_TAG} tag. */
  public static final String BERT = "bert";
  public static final String GPT = "gpt";

  /**
   * One meter of the catalogue.
   *
   * @param name        Micrometer name (Prometheus: dots become underscores, counters end in
   *                    {@code _total}, timers are in seconds)
   * @param type        counter, distribution summary, timer or gauge
   * @param baseUnit    unit, or null
   * @param tags        tag keys, {@code stage} first
   * @param description what it measures
   */
  public record MeterDoc(String name, Meter.Type type, String baseUnit, List<String> tags, String description) {}

  /** Every meter a stage registers. */
  public static final List<MeterDoc> METERS = List.of(
      new MeterDoc(RECORDS_IN, Meter.Type.COUNTER, null, List.of(STAGE_TAG),
          "Input records read by the stage's first step (valid or not)."),
      new MeterDoc(RECORDS_OUT, Meter.Type.COUNTER, null, List.of(STAGE_TAG, "output"),
          "Records written, by output: enriched, gpt_request (BERT stage); summary, reply (GPT stage)."),
      new MeterDoc(DEAD_LETTERS, Meter.Type.COUNTER, null, List.of(STAGE_TAG, "reason", "step"),
          "Records sent to the dead-letter topic, by reason code and by the step that refused them (the"
              + " dead letter's 'stage' field: parse, bert, route, gpt, produce, deserialize)."),
      new MeterDoc(BATCH_SIZE, Meter.Type.DISTRIBUTION_SUMMARY, "records", List.of(STAGE_TAG),
          "Texts per inference batch; GPT stage: sequences per decoder call, prefill or decode step, i.e. the"
              + " continuous batch (histogram; _count = batches or decoder calls run)."),
      new MeterDoc(BATCH_TOKENS, Meter.Type.DISTRIBUTION_SUMMARY, "tokens", List.of(STAGE_TAG),
          "Real tokens per inference batch; GPT stage: tokens fed to a decoder call (the prompts for a prefill,"
              + " one per sequence for a decode step) (histogram)."),
      new MeterDoc(BATCH_PADDED_TOKENS, Meter.Type.DISTRIBUTION_SUMMARY, "tokens", List.of(STAGE_TAG),
          "Padded tokens per batch (batch size x longest): what the model computed; 1 - tokens/padded is the"
              + " padding waste."),
      new MeterDoc(INFERENCE_LATENCY, Meter.Type.TIMER, "seconds", List.of(STAGE_TAG),
          "Wall time of one batch's inference call; GPT stage: of one decoder call, prefill or decode step"
              + " (histogram)."),
      new MeterDoc(STAGE_LATENCY, Meter.Type.TIMER, "seconds", List.of(STAGE_TAG),
          "Time from a record entering the stage's batching processor to its result being forwarded:"
              + " queueing, batching, inference and in-order release; GPT stage: from the request entering the"
              + " stage's buffer to its output being forwarded, i.e. the wait for admission and the whole generation"
              + " (histogram)."),
      new MeterDoc(BUFFERED, Meter.Type.GAUGE, "records", List.of(STAGE_TAG),
          "Records held in the stage's buffer stores (submitted or waiting, not yet forwarded), over all its"
              + " tasks."),
      new MeterDoc(QUEUED, Meter.Type.GAUGE, "records", List.of(STAGE_TAG),
          "Records waiting in the batcher for a batch (not yet being inferred); GPT stage: requests waiting for a"
              + " place in the running batch."),
      new MeterDoc(RUNNING, Meter.Type.GAUGE, "sequences", List.of(STAGE_TAG),
          "Sequences in the generator's running batch (GPT stage): decoded together at every step, between"
              + " admission and their last token."),
      new MeterDoc(GENERATED_TOKENS, Meter.Type.COUNTER, "tokens", List.of(STAGE_TAG),
          "Tokens generated (GPT stage); rate() of it is the generation throughput in tokens/s."),
      new MeterDoc(PROMPT_TOKENS, Meter.Type.COUNTER, "tokens", List.of(STAGE_TAG),
          "Prompt tokens of the generations forwarded (GPT stage): template and kept input, what prefill computed."),
      new MeterDoc(DUPLICATES, Meter.Type.COUNTER, null, List.of(STAGE_TAG),
          "Input records skipped as duplicates, with no model call and no output (GPT stage: a request whose input"
              + " id and kind was answered within gpt.answered.retention.ms or is in flight)."),
      new MeterDoc(REFUSED, Meter.Type.COUNTER, null, List.of(STAGE_TAG),
          "Submissions the batcher refused because its queue was full (GPT stage, gpt.max.queued): the record stays"
              + " buffered and is offered again; a steady rate means the stage is saturated."),
      new MeterDoc(MODEL_INFO, Meter.Type.GAUGE, null, List.of(STAGE_TAG, "role", "model"),
          "1 for each model role the stage serves, with the model id and version (e.g. role=sentiment,"
              + " model=minilm-heads@1; role=generator for the GPT stage): which models this process runs."));

  private static final double[] SIZE_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  private static final double[] TOKEN_BUCKETS =
      {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  private static final Duration[] INFERENCE_BUCKETS = millis(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
      10_000, 30_000);
  private static final Duration[] STAGE_BUCKETS = millis(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000,
      30_000, 60_000, 120_000, 300_000);

  private final MeterRegistry registry;
  private final String stage;
  private final Tags stageTags;
  private final Counter in;
  private final Map<String, Counter> out = new ConcurrentHashMap<>();
  private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();
  private final DistributionSummary batchSize;
  private final DistributionSummary batchTokens;
  private final DistributionSummary paddedTokens;
  private final Timer inferenceLatency;
  private final Timer stageLatency;
  private final Set<IntSupplier> buffered = ConcurrentHashMap.newKeySet();
  private final Set<IntSupplier> queued = ConcurrentHashMap.newKeySet();
  private final Set<IntSupplier> running = ConcurrentHashMap.newKeySet();
  private final Set<Meter> registered = ConcurrentHashMap.newKeySet();
  /** Counters of the GPT stage's hooks, by meter name: registered up front for {@code gpt}, on first use otherwise. */
  private final Map<String, Counter> stageCounters = new ConcurrentHashMap<>();

  /** The BERT stage's meters in a registry of their own (tests, tools that only read {@link #snapshot()}). */
  public PipelineCounters() {
    this(new SimpleMeterRegistry(), BERT);
  }

  /**
   * Registers the stage's meters in {@code registry}, tagged {@code stage=<stage>}.
   *
   * @param stage {@code bert} or {@code gpt}: the stage name of {@code run --stage}
   */
  public PipelineCounters(MeterRegistry registry, String stage) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.stage = Objects.requireNonNull(stage, "stage");
    this.stageTags = Tags.of(STAGE_TAG, stage);
    this.in = keep(Counter.builder(RECORDS_IN).description(doc(RECORDS_IN)).tags(stageTags).register(registry));
    // Registered up front so that dashboards see zeros rather than no series.
    if (GPT.equals(stage)) {
      recordOutCounter(OUTPUT_SUMMARY);
      recordOutCounter(OUTPUT_REPLY);
      for (String name : List.of(GENERATED_TOKENS, PROMPT_TOKENS, DUPLICATES, REFUSED)) {
        stageCounter(name);
      }
    } else {
      recordOutCounter(OUTPUT_ENRICHED);
    }
    this.batchSize = keep(DistributionSummary.builder(BATCH_SIZE).description(doc(BATCH_SIZE)).baseUnit("records")
        .tags(stageTags).serviceLevelObjectives(SIZE_BUCKETS).register(registry));
    this.batchTokens = keep(DistributionSummary.builder(BATCH_TOKENS).description(doc(BATCH_TOKENS))
        .baseUnit("tokens").tags(stageTags).serviceLevelObjectives(TOKEN_BUCKETS).register(registry));
    this.paddedTokens = keep(DistributionSummary.builder(BATCH_PADDED_TOKENS).description(doc(BATCH_PADDED_TOKENS))
        .baseUnit("tokens").tags(stageTags).serviceLevelObjectives(TOKEN_BUCKETS).register(registry));
    this.inferenceLatency = keep(Timer.builder(INFERENCE_LATENCY).description(doc(INFERENCE_LATENCY)).tags(stageTags)
        .serviceLevelObjectives(INFERENCE_BUCKETS).register(registry));
    this.stageLatency = keep(Timer.builder(STAGE_LATENCY).description(doc(STAGE_LATENCY)).tags(stageTags)
        .serviceLevelObjectives(STAGE_BUCKETS).register(registry));
    keep(Gauge.builder(BUFFERED, buffered, PipelineCounters::sum).description(doc(BUFFERED)).baseUnit("records")
        .tags(stageTags).register(registry));
    keep(Gauge.builder(QUEUED, queued, PipelineCounters::sum).description(doc(QUEUED)).baseUnit("records")
        .tags(stageTags).register(registry));
    if (GPT.equals(stage)) {
      keep(Gauge.builder(RUNNING, running, PipelineCounters::sum).description(doc(RUNNING)).baseUnit("sequences")
          .tags(stageTags).register(registry));
    }
  }

  /** The stage these meters are tagged with. */
  @Override
  public String stage() {
    return stage;
  }

  /** The registry the meters live in. */
  public MeterRegistry registry() {
    return registry;
  }

  /** One input record read by the stage's first step. */
  public void recordIn() {
    in.increment();
  }

  /** One record written to an output topic ({@code output}: {@code enriched}, {@code gpt_request}, ...). */
  public void recordOut(String output) {
    recordOutCounter(output).increment();
  }

  void enriched() {
    recordOut(OUTPUT_ENRICHED);
  }

  void gptRequest() {
    recordOut(OUTPUT_GPT_REQUEST);
  }

  /** One record sent to the dead-letter topic, refused by {@code step} for {@code reason}. */
  @Override
  public void deadLetter(DeadLetterReason reason, Stage step) {
    String key = reason.code() + "/" + step.code();
    deadLetters.computeIfAbsent(key, k -> keep(Counter.builder(DEAD_LETTERS).description(doc(DEAD_LETTERS))
        .tags(stageTags).tag("reason", reason.code()).tag("step", step.code()).register(registry))).increment();
  }

  /**
   * One inference batch ran (a {@link io.nlpstream.models.batch.BatchingQueue.BatchListener}).
   *
   * @param size   texts in it
   * @param tokens their tokens
   * @param padded size x longest
   * @param nanos  wall time of the inference call
   */
  public void batch(int size, int tokens, int padded, long nanos) {
    batchSize.record(size);
    batchTokens.record(tokens);
    paddedTokens.record(padded);
    inferenceLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A record's result was forwarded {@code nanos} after it entered the batching processor. */
  public void forwarded(long nanos) {
    stageLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Tokens generated (the GPT stage's hook; its rate is the generation throughput). */
  public void generatedTokens(long tokens) {
    stageCounter(GENERATED_TOKENS).increment(tokens);
  }

  /** Prompt tokens of a generation forwarded (GPT stage). */
  public void promptTokens(long tokens) {
    stageCounter(PROMPT_TOKENS).increment(tokens);
  }

  /** One input record skipped as a duplicate: no model call, no output (GPT stage). */
  public void duplicate() {
    stageCounter(DUPLICATES).increment();
  }

  /** One submission the batcher refused for now, its queue being full (GPT stage); it is offered again. */
  public void refused() {
    stageCounter(REFUSED).increment();
  }

  /**
   * Adds a source to the {@value #BUFFERED} gauge (one per stream task: the records it holds).
   * The supplier is read from the scraping thread: back it by something thread-safe.
   */
  public Registration trackBuffered(IntSupplier records) {
    buffered.add(records);
    return () -> buffered.remove(records);
  }

  /** Adds a source to the {@value #QUEUED} gauge (the batcher's waiting records). Thread-safe supplier. */
  public Registration trackQueued(IntSupplier records) {
    queued.add(records);
    return () -> queued.remove(records);
  }

  /**
   * Adds a source to the {@value #RUNNING} gauge (the generator's running sequences), served for the
   * GPT stage only. Thread-safe supplier.
   */
  public Registration trackRunning(IntSupplier sequences) {
    running.add(sequences);
    return () -> running.remove(sequences);
  }

  /** Publishes {@value #MODEL_INFO} = 1 for each role and its model ({@code role -> id@version}). */
  public void modelInfo(Map<String, String> models) {
    models.forEach((role, model) -> keep(Gauge.builder(MODEL_INFO, () -> 1).description(doc(MODEL_INFO))
        .tags(stageTags).tag("role", role).tag("model", model).register(registry)));
  }

  /** Removes this stage's meters from the registry (values stay readable through {@link #snapshot()}). Idempotent. */
  @Override
  public void close() {
    for (Meter m : registered) {
      registry.remove(m);
    }
    registered.clear();
    buffered.clear();
    queued.clear();
    running.clear();
  }

  /** A consistent-enough copy for printing (each meter is read atomically, not all together). */
  public Snapshot snapshot() {
    return new Snapshot(inCount(), outCount(OUTPUT_ENRICHED), outCount(OUTPUT_GPT_REQUEST), deadLettersByReason(),
        batchSize.count(), (long) batchSize.totalAmount(), (long) batchTokens.totalAmount(),
        (long) paddedTokens.totalAmount(), inferenceNanos());
  }

  /** Input records read so far. */
  long inCount() {
    return (long) in.count();
  }

  /** Records written so far to {@code output}. */
  long outCount(String output) {
    Counter c = out.get(output);
    return c == null ? 0 : (long) c.count();
  }

  /** Dead letters by reason code, in code order, zero counts omitted. */
  Map<String, Long> deadLettersByReason() {
    Map<String, Long> byReason = new TreeMap<>();
    deadLetters.values().forEach(c -> byReason.merge(c.getId().getTag("reason"), (long) c.count(), Long::sum));
    byReason.values().removeIf(v -> v == 0);
    return Collections.unmodifiableMap(byReason);
  }

  /** The count of one of the GPT stage's counters ({@value #GENERATED_TOKENS}, {@value #DUPLICATES}, ...). */
  long stageCount(String name) {
    Counter c = stageCounters.get(name);
    return c == null ? 0 : (long) c.count();
  }

  /** Inference batches (GPT stage: decoder calls) run, the items in them, and the time they took. */
  long batches() {
    return batchSize.count();
  }

  long batchedItems() {
    return (long) batchSize.totalAmount();
  }

  long inferenceNanos() {
    return (long) inferenceLatency.totalTime(TimeUnit.NANOSECONDS);
  }

  private Counter stageCounter(String name) {
    return stageCounters.computeIfAbsent(name, n -> {
      Counter.Builder b = Counter.builder(n).description(doc(n)).tags(stageTags);
      String unit = METERS.stream().filter(m -> m.name().equals(n)).findFirst().orElseThrow().baseUnit();
      return keep((unit == null ? b : b.baseUnit(unit)).register(registry));
    });
  }

  private Counter recordOutCounter(String output) {
    return out.computeIfAbsent(output, o -> keep(Counter.builder(RECORDS_OUT).description(doc(RECORDS_OUT))
        .tags(stageTags).tag("output", o).register(registry)));
  }

  private <M extends Meter> M keep(M meter) {
    registered.add(meter);
    return meter;
  }

  private static double sum(Set<IntSupplier> sources) {
    long total = 0;
    for (IntSupplier s : sources) {
      total += s.getAsInt();
    }
    return total;
  }

  private static String doc(String name) {
    return METERS.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow().description();
  }

  private static Duration[] millis(long... ms) {
    Duration[] out = new Duration[ms.length];
    for (int i = 0; i < ms.length; i++) {
      out[i] = Duration.ofMillis(ms[i]);
    }
    return out;
  }

  /** Removes what it registered; idempotent. */
  @FunctionalInterface
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * @param in             input records read (parse step)
   * @param enriched       enriched records forwarded
   * @param gptRequests    GPT requests forwarded
   * @param deadLetters    dead letters by reason code, in code order (reasons with a zero count omitted)
   * @param batches        inference batches run
   * @param batchedItems   texts in those batches
   * @param batchedTokens  their tokens
   * @param paddedTokens   batch size x longest, summed: what the encoder computed
   * @param inferenceNanos time spent in the analyzer
   */
  public record Snapshot(long in, long enriched, long gptRequests, Map<String, Long> deadLetters, long batches,
                         long batchedItems, long batchedTokens, long paddedTokens, long inferenceNanos) {

    public long deadLettersTotal() {
      return deadLetters.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT,
          "in=%d enriched=%d gpt_requests=%d dead_letters=%d %s batches=%d (mean size %.1f, padding %.0f%%)",
          in, enriched, gptRequests, deadLettersTotal(), deadLetters, batches,
          batches == 0 ? 0.0 : (double) batchedItems / batches,
          paddedTokens == 0 ? 0.0 : 100.0 * (paddedTokens - batchedTokens) / paddedTokens);
    }
  }
}
