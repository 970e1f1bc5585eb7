package io.nlpstream.topology;

import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.topology.ParseResult.Accepted;
import io.nlpstream.topology.ParseResult.Rejected;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.KeyValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BERT stage of one stream task: batches texts across tasks through the shared {@link BertStage}
 * without ever losing a record.
 *
 * <h2>Durability</h2>
 * The {@link DurableBuffer} (shared with the GPT stage) over the changelogged buffer store, key:
 * partition and offset, value: the raw input record. {@code process()} writes the record there
 * before returning; it leaves the store only in the step that forwards its result, in the same
 * transaction. On {@link #init} (start, restart, rebalance: after Kafka Streams restored the store)
 * every record the store holds is resubmitted, in offset order, before any new record.
 *
 * <h2>Order</h2>
 * The buffer keeps its records in input order ({@link DurableBuffer.Order#INPUT}). Results complete
 * on the batcher thread in any order (batches are sorted by length); this task forwards only the
 * completed <em>prefix</em>, from {@code process()} and from a wall-clock punctuation every
 * {@code bert.forward.interval.ms}. Hence: <b>for each input partition, the records this stage
 * emits (enriched, and the dead letters of the BERT stage) appear in input offset order</b>, and so
 * do the GPT requests derived from them. Parse-stage dead letters are emitted at once and are not
 * ordered relative to enriched records. Forwarding happens on the task's own thread, in its context,
 * as Kafka Streams requires.
 *
 * <h2>Bounded memory, backpressure</h2>
 * {@link BertStage#submit} blocks while {@code batch.max.queued.tokens} wait for inference: the
 * stream thread stops taking records, and Kafka's poll loop slows with it. On top of that, one task
 * holds at most {@code bert.max.pending.per.task} submitted-but-unforwarded records: at the cap,
 * {@code process()} waits for the head of its FIFO (a slow head cannot make finished results pile up
 * without bound). A blocked stream thread still has to return within {@code max.poll.interval.ms}.
 *
 * <h2>Failures</h2>
 * Each finished record resolves to a typed {@link Outcome}: enriched, or a dead letter. A failed
 * future (the batcher isolates a failing text from its batch) becomes an {@code inference_error}
 * dead letter naming the model; the rest of the batch flows. A restored record that no longer parses
 * (configuration changed) becomes a parse dead letter. A cancelled future means the stage was closed
 * under a running task: that throws {@link BertStageClosedException}, which the handler turns into a
 * task failure, leaving the records in the store for the next run.
 *
 * <p>Not thread-safe: Kafka Streams calls one instance from one stream thread.
 */
final class EnrichmentProcessor implements Processor<String, ParsedInput, String, Object>,
    DurableBuffer.Handler<BufferKey, SourceRecord, EnrichmentProcessor.Pending> {

  private static final Logger LOG = LoggerFactory.getLogger(EnrichmentProcessor.class);

  private final BertStage stage;
  private final TextEventParser parser;
  private final String storeName;
  private final Duration forwardInterval;
  private final int maxPending;
  private final String enrichedNode;
  private final String routeNode;
  private final String deadLetterNode;

  private ProcessorContext<String, Object> context;
  private DurableBuffer<BufferKey, SourceRecord, Pending> buffer;
  private Cancellable punctuation;
  /** The stage's buffered-records gauge's hold on this task's buffer. */
  private PipelineCounters.Registration heldGauge;

  /** One record of this task between submission and forwarding. */
  sealed interface Pending extends DurableBuffer.Ticket {
    SourceRecord origin();
  }

  /** Submitted to the batcher at {@code submittedNanos} ({@link System#nanoTime()}). */
  private record Submitted(ParsedInput input, CompletableFuture<Analysis> analysis, long submittedNanos)
      implements Pending {
    @Override
    public SourceRecord origin() {
      return input.origin();
    }

    @Override
    public boolean isDone() {
      return analysis.isDone();
    }
  }

  /** Restored from the store but no longer valid input: resolves to a parse dead letter, in its turn. */
  private record Refused(SourceRecord origin, Rejected rejection) implements Pending {
    @Override
    public boolean isDone() {
      return true;
    }
  }

  /** What a finished record becomes. */
  sealed interface Outcome {
    record Enriched(EnrichedEvent event) implements Outcome {}

    record DeadLettered(DeadLetter letter) implements Outcome {}
  }

  EnrichmentProcessor(BertStage stage, TextEventParser parser, String storeName, Duration forwardInterval,
                      int maxPending, String enrichedNode, String routeNode, String deadLetterNode) {
    this.stage = stage;
    this.parser = parser;
    this.storeName = storeName;
    this.forwardInterval = forwardInterval;
    this.maxPending = maxPending;
    this.enrichedNode = enrichedNode;
    this.routeNode = routeNode;
    this.deadLetterNode = deadLetterNode;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    KeyValueStore<BufferKey, SourceRecord> store = context.getStateStore(storeName);
    this.buffer = new DurableBuffer<>(store, this, DurableBuffer.Order.INPUT);
    this.heldGauge = stage.counters().trackBuffered(buffer::publishedSize);
    // BufferKey order = offset order: restored records keep their order.
    List<KeyValue<BufferKey, SourceRecord>> restored = buffer.restore((a, b) -> a.key.compareTo(b.key));
    // One line per task assignment (start, rebalance, restart): which instance owns which partition
    // when, the first thing to look at after a rolling restart or a crash.
    if (!restored.isEmpty()) {
      LOG.info("Task {}: started; resubmitted {} buffered record(s) from store {} (offsets {}..{})", context.taskId(),
          restored.size(), storeName, restored.get(0).key.offset(), restored.get(restored.size() - 1).key.offset());
    } else {
      LOG.info("Task {}: started; nothing buffered in store {}", context.taskId(), storeName);
    }
    punctuation = context.schedule(forwardInterval, PunctuationType.WALL_CLOCK_TIME, now -> buffer.forwardCompleted());
  }

  /** Resubmits a restored record: it is parsed again (deterministic), and refused if it no longer parses. */
  @Override
  public Pending submit(BufferKey key, SourceRecord origin) {
    ParseResult parsed = parser.parse(origin);
    if (parsed instanceof Accepted accepted) {
      ParsedInput input = new ParsedInput(origin, accepted.event());
      return new Submitted(input, stage.submit(input.event().text()), System.nanoTime());
    }
    return new Refused(origin, (Rejected) parsed);
  }

  @Override
  public void process(Record<String, ParsedInput> record) {
    ParsedInput input = record.value();
    BufferKey key = BufferKey.of(input.origin());
    if (buffer.contains(key)) {
      // Redelivered after a failure (at_least_once) while its first delivery is still buffered and was
      // resubmitted on init: the buffered copy will be forwarded; a second one would be a duplicate.
      LOG.debug("Task {}: {} is already buffered; not submitting it twice", context.taskId(), key);
      return;
    }
    long now = System.nanoTime();
    CompletableFuture<Analysis> analysis = stage.submit(input.event().text());
    buffer.add(key, input.origin(), new Submitted(input, analysis, now));
    buffer.forwardCompleted();
    while (buffer.size() >= maxPending) {
      awaitHead();
      buffer.forwardCompleted();
    }
  }

  /** Blocks until the oldest pending record's result is in (it may have failed: that is an outcome too). */
  private void awaitHead() {
    if (buffer.oldestTicket().orElse(null) instanceof Submitted head) {
      try {
        head.analysis().get();
      } catch (ExecutionException | java.util.concurrent.CancellationException e) {
        // Resolved to an outcome by forwardCompleted(), which runs next.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(
            "interrupted while waiting for the BERT stage", e);
      }
    }
  }

  /** Forwards one finished record (the buffer then deletes it from the store, same transaction). */
  @Override
  public void complete(BufferKey key, SourceRecord origin, Pending pending) {
    Outcome outcome = resolve(pending);
    if (outcome instanceof Outcome.Enriched enriched) {
      EnrichedEvent event = enriched.event();
      Record<String, Object> out = new Record<>(event.id(), event, origin.timestamp(), new RecordHeaders());
      context.forward(out, enrichedNode);
      context.forward(out, routeNode);
      stage.counters().enriched();
    } else if (outcome instanceof Outcome.DeadLettered dead) {
      DeadLetter letter = dead.letter();
      context.forward(new Record<>(letter.recordKey(), (Object) letter, origin.timestamp(),
          new RecordHeaders()), deadLetterNode);
      stage.counters().deadLetter(letter.reason(), letter.stage());
    }
    if (pending instanceof Submitted submitted) {
      stage.counters().forwarded(System.nanoTime() - submitted.submittedNanos());
    }
  }

  private Outcome resolve(Pending pending) {
    if (pending instanceof Refused refused) {
      return new Outcome.DeadLettered(DeadLetter.of(refused.rejection().reason(), refused.rejection().message(),
          Stage.PARSE, null, null, refused.origin(), null, context.currentSystemTimeMs()));
    }
    Submitted submitted = (Submitted) pending;
    CompletableFuture<Analysis> future = submitted.analysis();
    if (future.isCancelled()) {
      throw new BertStageClosedException("BERT stage closed while task " + context.taskId() + " had "
          + buffer.size() + " record(s) in flight; they stay buffered for the next run");
    }
    Analysis analysis;
    try {
      analysis = future.join();
    } catch (CompletionException e) {
      return new Outcome.DeadLettered(inferenceError(submitted, e.getCause() == null ? e : e.getCause()));
    }
    try {
      return new Outcome.Enriched(EnrichedEvent.of(submitted.input(), analysis, stage.models()));
    } catch (RuntimeException e) {
      // Not thrown to Kafka Streams on purpose: from a punctuation the handler has no record to
      // dead-letter, and this head would block its partition forever. It is this record's outcome.
      try (RecordLogContext log = RecordLogContext.of(stage.counters().stage(), Stage.BERT, submitted.origin(),
          submitted.input().event().id())) {
        LOG.error("Task {}: cannot build the enriched record of {}", context.taskId(), submitted.origin(), e);
      }
      return new Outcome.DeadLettered(DeadLetter.of(DeadLetterReason.PROCESSING_ERROR,
          "cannot build the enriched record: " + e, Stage.BERT, stage.modelId(), submitted.input().event().id(),
          submitted.origin(), e, context.currentSystemTimeMs()));
    }
  }

  private DeadLetter inferenceError(Submitted submitted, Throwable error) {
    String model = error instanceof InferenceException ie && ie.modelId() != null ? ie.modelId() : stage.modelId();
    try (RecordLogContext log = RecordLogContext.of(stage.counters().stage(), Stage.BERT, submitted.origin(),
        submitted.input().event().id())) {
      LOG.warn("Task {}: inference failed for {} (id {}): {}", context.taskId(), submitted.origin(),
          submitted.input().event().id(), error.toString());
    }
    return DeadLetter.of(DeadLetterReason.INFERENCE_ERROR, String.valueOf(error.getMessage()), Stage.BERT, model,
        submitted.input().event().id(), submitted.origin(), error, context.currentSystemTimeMs());
  }

  /**
   * Drops this instance's view of its records; they stay in the store, which Kafka Streams commits
   * (clean close) or restores from the changelog (after a crash), so the next owner resubmits them.
   */
  @Override
  public void close() {
    if (punctuation != null) {
      punctuation.cancel();
    }
    if (buffer != null && buffer.size() > 0) {
      LOG.info("Task {}: closing with {} record(s) in flight; they stay in store {}", context.taskId(), buffer.size(),
          storeName);
      buffer.clear();
    }
    if (heldGauge != null) {
      heldGauge.close();
    }
  }
}
