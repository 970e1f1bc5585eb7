package io.nlpstream.topology;

import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.topology.GptRequestParser.Result;
import io.nlpstream.topology.ParseResult.Rejected;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPT stage of one stream task: reads generation requests, hands them to the process-wide
 * {@link GptStage} (continuous batching across all tasks), and writes one summary or reply per
 * request, without losing a request and without generating one twice.
 *
 * <h2>Durability</h2>
 * The {@link DurableBuffer} shared with the BERT stage, over the changelogged buffer store (key:
 * {@link RequestKey}, value: the raw request record): a valid request is in the store before
 * {@code process()} returns and leaves it in the step that forwards its output, in the same
 * transaction. On {@link #init} every buffered request is taken up again, in offset order, before
 * any new one.
 *
 * <h2>No duplicate generation</h2>
 * A request is skipped (no model call, no output, counted as a duplicate) when its (input id, kind)
 * is in the <em>answered</em> store, or is in flight in this task's buffer. The answer is written
 * to the answered store in the same step as the output record, so under {@code exactly_once_v2}
 * both commit in one transaction with the input offset: a request replayed after a crash either was
 * answered (its output committed, and the replay finds the answer) or was not (its output aborted
 * with the rest of the transaction, and it is generated again, once). An upstream that delivers a
 * request twice (at-least-once) is answered once as long as the second copy comes within the
 * answered store's retention of the first, by request timestamps ({@code gpt.answered.retention.ms};
 * requests with the same input id go to the same partition, hence the same task, because the
 * topic is keyed by input id). A request that was dead-lettered is not recorded as answered: a copy
 * of it (a deliberate replay once the cause is fixed) is tried again.
 *
 * <h2>Order and backpressure</h2>
 * Admission to the generator is first come first served per task (restored requests first, then
 * offset order). The generator never blocks: when its queue is full it refuses, and the request
 * stays in the store and in line, offered again at the next punctuation
 * ({@code gpt.forward.interval.ms}). Outputs are forwarded as soon as their generation completes
 * ({@link DurableBuffer.Order#COMPLETION}): <b>the GPT stage keeps no order between requests</b>, a
 * short generation overtakes a long one. At {@code gpt.max.pending.per.task} buffered requests
 * {@code process()} waits for a generation to finish, at most {@code gpt.max.block.ms}, forwarding
 * what completes meanwhile: that slows the poll loop without ever holding the thread near
 * {@code max.poll.interval.ms}.
 *
 * <h2>Failures</h2>
 * Invalid requests (see {@link GptRequestParser}) and failed generations
 * ({@code inference_error}, with the model id) go to the dead-letter topic, stage {@code gpt}. A
 * cancelled generation means the generator closed under a running task: that throws
 * {@link GptStageClosedException}, which fails the task and leaves the requests in the store.
 * Failures are logged with the request's coordinates in the logging context ({@link RecordLogContext}),
 * never with its text.
 *
 * <h2>Meters</h2>
 * Through the stage's {@link GenerationCounters} ({@code stage=gpt}): requests in, outputs by kind,
 * duplicates, dead letters by reason, prompt and generated tokens, the time from a request entering
 * this task's buffer to its output being forwarded, and this task's buffered requests (the
 * buffered-records gauge).
 *
 * <p>Not thread-safe: Kafka Streams calls one instance from one stream thread.
 */
final class GenerationProcessor implements Processor<byte[], byte[], String, Object>,
    DurableBuffer.Handler<RequestKey, SourceRecord, GenerationProcessor.Pending> {

  private static final Logger LOG = LoggerFactory.getLogger(GenerationProcessor.class);

  private final GptStage stage;
  private final GptRequestParser parser;
  private final String bufferStoreName;
  private final String answeredStoreName;
  private final Duration forwardInterval;
  private final int maxPending;
  private final Duration maxBlock;
  private final long retentionMs;
  private final String summariesNode;
  private final String repliesNode;
  private final String deadLetterNode;

  private ProcessorContext<String, Object> context;
  private DurableBuffer<RequestKey, SourceRecord, Pending> buffer;
  private WindowStore<RequestKey, Answer> answered;
  private Cancellable punctuation;
  private PipelineCounters.Registration heldGauge;
  /** When each buffered request entered this task ({@link System#nanoTime()}), for the in-stage latency. */
  private final Map<RequestKey, Long> arrivedNanos = new HashMap<>();

  /** One request of this task between admission and forwarding. */
  sealed interface Pending extends DurableBuffer.Ticket {}

  /** Handed to the generator. */
  private record Submitted(GenerationInput input, CompletableFuture<Generation> generation) implements Pending {
    @Override
    public boolean isDone() {
      return generation.isDone();
    }
  }

  /** Taken up from the store but no longer a valid request (the configuration changed): a dead letter. */
  private record Refused(SourceRecord origin, Rejected rejection) implements Pending {
    @Override
    public boolean isDone() {
      return true;
    }
  }

  /** The generator cannot take this request at all (it does not fit the model): a dead letter. */
  private record Unfit(GenerationInput input, IllegalArgumentException error) implements Pending {
    @Override
    public boolean isDone() {
      return true;
    }
  }

  GenerationProcessor(GptStage stage, GptRequestParser parser, String bufferStoreName, String answeredStoreName,
                      Duration forwardInterval, int maxPending, Duration maxBlock, Duration retention,
                      String summariesNode, String repliesNode, String deadLetterNode) {
    this.stage = stage;
    this.parser = parser;
    this.bufferStoreName = bufferStoreName;
    this.answeredStoreName = answeredStoreName;
    this.forwardInterval = forwardInterval;
    this.maxPending = maxPending;
    this.maxBlock = maxBlock;
    this.retentionMs = retention.toMillis();
    this.summariesNode = summariesNode;
    this.repliesNode = repliesNode;
    this.deadLetterNode = deadLetterNode;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    KeyValueStore<RequestKey, SourceRecord> store = context.getStateStore(bufferStoreName);
    this.answered = context.getStateStore(answeredStoreName);
    this.buffer = new DurableBuffer<>(store, this, DurableBuffer.Order.COMPLETION);
    this.heldGauge = stage.counters().meters().trackBuffered(buffer::publishedSize);
    Comparator<KeyValue<RequestKey, SourceRecord>> offsetOrder = Comparator
        .<KeyValue<RequestKey, SourceRecord>>comparingInt(kv -> kv.value.partition())
        .thenComparingLong(kv -> kv.value.offset());
    long restoredAt = System.nanoTime();
    List<KeyValue<RequestKey, SourceRecord>> restored = buffer.restore(offsetOrder);
    restored.forEach(kv -> arrivedNanos.put(kv.key, restoredAt));
    if (!restored.isEmpty()) {
      LOG.info("Task {}: took up {} buffered request(s) from store {} (offsets {}..{}), {} of them waiting for"
              + " room in the generator", context.taskId(), restored.size(), bufferStoreName,
          restored.get(0).value.offset(), restored.get(restored.size() - 1).value.offset(), buffer.waiting());
    }
    punctuation = context.schedule(forwardInterval, PunctuationType.WALL_CLOCK_TIME, now -> buffer.drain());
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata md = context.recordMetadata()
        .orElseThrow(() -> new IllegalStateException("request record without topic/partition/offset"));
    SourceRecord origin = new SourceRecord(md.topic(), md.partition(), md.offset(), record.timestamp(),
        record.key(), record.value());
    stage.counters().request();
    Result parsed = parser.parse(origin);
    if (parsed instanceof Result.Invalid invalid) {
      deadLetter(DeadLetter.of(invalid.rejection().reason(), invalid.rejection().message(), Stage.GPT, null, null,
          origin, null, context.currentSystemTimeMs()), origin);
      return;
    }
    GenerationInput input = ((Result.Valid) parsed).input();
    RequestKey key = input.key();
    if (isAnswered(key, origin.timestamp()) || buffer.contains(key)) {
      stage.counters().duplicate();
      LOG.debug("Task {}: {} ({}) is already {}; not generating it again", context.taskId(), key, origin,
          buffer.contains(key) ? "in flight" : "answered");
      return;
    }
    arrivedNanos.put(key, System.nanoTime());
    buffer.add(key, origin);
    buffer.forwardCompleted();
    awaitRoom();
  }

  /** True when {@code key} was answered within the retention around {@code timestamp}. */
  private boolean isAnswered(RequestKey key, long timestamp) {
    long from = Math.max(0, timestamp - retentionMs);
    long to = timestamp > Long.MAX_VALUE - retentionMs ? Long.MAX_VALUE : timestamp + retentionMs;
    try (WindowStoreIterator<Answer> it = answered.fetch(key, from, to)) {
      return it.hasNext();
    }
  }

  /**
   * At the per-task cap, waits (at most {@code maxBlock}) for generations to finish, forwarding them
   * and offering waiting requests again meanwhile.
   */
  private void awaitRoom() {
    long deadline = System.nanoTime() + maxBlock.toNanos();
    while (buffer.size() >= maxPending) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        LOG.debug("Task {}: {} requests buffered after waiting {}; taking more anyway", context.taskId(),
            buffer.size(), maxBlock);
        return;
      }
      List<CompletableFuture<Generation>> running = buffer.running().stream()
          .filter(p -> p instanceof Submitted).map(p -> ((Submitted) p).generation()).toList();
      long wait = running.isEmpty() ? Math.min(remaining, forwardInterval.toNanos()) : remaining;
      try {
        if (running.isEmpty()) {
          // Everything of this task waits for room in a generator full of other tasks' requests.
          TimeUnit.NANOSECONDS.sleep(wait);
        } else {
          CompletableFuture.anyOf(running.toArray(CompletableFuture[]::new)).get(wait, TimeUnit.NANOSECONDS);
        }
      } catch (ExecutionException | CancellationException | TimeoutException e) {
        // An outcome (failure, cancellation) or the deadline: drain() and the loop condition handle both.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException("interrupted while waiting for the GPT stage", e);
      }
      buffer.drain();
    }
  }

  /** Offers a buffered request to the generator; parsed again from its raw bytes (deterministic). */
  @Override
  public Pending submit(RequestKey key, SourceRecord origin) {
    Result parsed = parser.parse(origin);
    if (parsed instanceof Result.Invalid invalid) {
      return new Refused(origin, invalid.rejection());
    }
    GenerationInput input = ((Result.Valid) parsed).input();
    try {
      return new Submitted(input, stage.submit(input));
    } catch (IllegalArgumentException e) {
      return new Unfit(input, e);
    }
  }

  /** Forwards one finished request (the buffer then deletes it from the store, same transaction). */
  @Override
  public void complete(RequestKey key, SourceRecord origin, Pending pending) {
    long now = context.currentSystemTimeMs();
    Long arrived = arrivedNanos.remove(key);
    if (pending instanceof Refused refused) {
      deadLetter(DeadLetter.of(refused.rejection().reason(), refused.rejection().message(), Stage.GPT, null, null,
          origin, null, now), origin);
      return;
    }
    if (pending instanceof Unfit unfit) {
      deadLetter(DeadLetter.of(DeadLetterReason.INFERENCE_ERROR, String.valueOf(unfit.error().getMessage()),
          Stage.GPT, stage.modelId(), unfit.input().inputId(), origin, unfit.error(), now), origin);
      return;
    }
    Submitted submitted = (Submitted) pending;
    CompletableFuture<Generation> future = submitted.generation();
    if (future.isCancelled()) {
      throw new GptStageClosedException("generator " + stage.modelId() + " closed while task " + context.taskId()
          + " had " + buffer.size() + " request(s) in flight; they stay buffered for the next run");
    }
    GenerationInput input = submitted.input();
    Generation generation;
    try {
      generation = future.join();
    } catch (CompletionException | CancellationException e) {
      Throwable error = e.getCause() == null ? e : e.getCause();
      String model = error instanceof InferenceException ie && ie.modelId() != null ? ie.modelId() : stage.modelId();
      try (RecordLogContext log = RecordLogContext.of(GptStage.NAME, Stage.GPT, origin, input.inputId())) {
        LOG.warn("Task {}: generation failed for {} ({}): {}", context.taskId(), key, origin, error.toString());
      }
      deadLetter(DeadLetter.of(DeadLetterReason.INFERENCE_ERROR, String.valueOf(error.getMessage()), Stage.GPT,
          model, input.inputId(), origin, error, now), origin);
      return;
    }
    GeneratedText out;
    try {
      out = GeneratedText.of(input, generation, stage.modelId(), stage.params(input.kind()).maxNewTokens(), now);
    } catch (RuntimeException e) {
      // Not thrown to Kafka Streams on purpose: from a punctuation the handler has no record to blame.
      try (RecordLogContext log = RecordLogContext.of(GptStage.NAME, Stage.GPT, origin, input.inputId())) {
        LOG.error("Task {}: cannot build the output record of {}", context.taskId(), key, e);
      }
      deadLetter(DeadLetter.of(DeadLetterReason.PROCESSING_ERROR, "cannot build the output record: " + e, Stage.GPT,
          stage.modelId(), input.inputId(), origin, e, now), origin);
      return;
    }
    context.forward(new Record<>(out.inputId(), (Object) out, origin.timestamp(), new RecordHeaders()),
        input.kind() == Task.SUMMARY ? summariesNode : repliesNode);
    answered.put(key, new Answer(out.model(), out.generatedTokens(), out.timestamp(), origin.offset()),
        origin.timestamp());
    stage.counters().generated(input.kind(), out.promptTokens(), out.generatedTokens(),
        arrived == null ? -1 : System.nanoTime() - arrived);
    LOG.debug("Task {}: generated {} ({} tokens, {}, {} ms)", context.taskId(), key, out.generatedTokens(),
        out.finishReason(), out.latencyMs());
  }

  private void deadLetter(DeadLetter letter, SourceRecord origin) {
    context.forward(new Record<>(letter.recordKey(), (Object) letter, origin.timestamp(), new RecordHeaders()),
        deadLetterNode);
    stage.counters().deadLetter(letter.reason(), letter.stage());
  }

  /**
   * Drops this instance's view of its requests; they stay in the store, which Kafka Streams commits
   * (clean close) or restores from the changelog (after a crash), so the next owner takes them up.
   * Generations still running are cancelled, so that the shared generator does not spend time on
   * results nobody will forward (the next owner generates them again, deterministically).
   */
  @Override
  public void close() {
    if (punctuation != null) {
      punctuation.cancel();
    }
    if (buffer != null && buffer.size() > 0) {
      LOG.info("Task {}: closing with {} request(s) in flight; they stay in store {}", context.taskId(),
          buffer.size(), bufferStoreName);
      for (Pending p : buffer.running()) {
        if (p instanceof Submitted submitted) {
          submitted.generation().cancel(false);
        }
      }
      buffer.clear();
    }
    arrivedNanos.clear();
    if (heldGauge != null) {
      heldGauge.close();
    }
  }
}
