package io.nlpstream.topology;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nlpstream.models.gpt.DecoderCallListener;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The GPT stage's meters, in its words: requests read, generations forwarded (by kind), duplicates
 * skipped, offers the generator refused, dead letters, prompt and generated tokens, every decoder
 * call (a {@link DecoderCallListener}) and the time from request to output. It holds no count of
 * its own: everything is recorded in the stage's {@link PipelineCounters} ({@code stage=gpt}) in
 * the process's registry, which {@code /metrics} serves and {@link #snapshot()} reads.
 *
 * <p>Thread-safe: stream threads, the generator's decoding thread and the exception handlers record
 * into one instance. Ownership: {@link GptStage} closes it when it stops (its meters leave the
 * registry; the registry belongs to the process).
 */
public final class GenerationCounters implements DeadLetterCounter, DecoderCallListener, AutoCloseable {

  private final PipelineCounters meters;

  /** Meters in a registry of their own (tests, tools that only read {@link #snapshot()}). */
  public GenerationCounters() {
    this(new SimpleMeterRegistry());
  }

  /** Registers the GPT stage's meters ({@code stage=gpt}) in {@code registry}. */
  public GenerationCounters(MeterRegistry registry) {
    this.meters = new PipelineCounters(Objects.requireNonNull(registry, "registry"), PipelineCounters.GPT);
  }

  /** The meters underneath (gauges, model info). */
  public PipelineCounters meters() {
    return meters;
  }

  void request() {
    meters.recordIn();
  }

  /**
   * One generation forwarded.
   *
   * @param kind          summary or reply: the output
   * @param prompt        its prompt tokens
   * @param tokens        its generated tokens
   * @param inStageNanos  from the request entering the stage's buffer to its output being forwarded;
   *                      negative when unknown (not recorded)
   */
  void generated(Task kind, int prompt, int tokens, long inStageNanos) {
    meters.recordOut(kind == Task.SUMMARY ? PipelineCounters.OUTPUT_SUMMARY : PipelineCounters.OUTPUT_REPLY);
    meters.promptTokens(prompt);
    meters.generatedTokens(tokens);
    if (inStageNanos >= 0) {
      meters.forwarded(inStageNanos);
    }
  }

  void duplicate() {
    meters.duplicate();
  }

  void refusedOffer() {
    meters.refused();
  }

  @Override
  public void deadLetter(DeadLetterReason reason, Stage step) {
    meters.deadLetter(reason, step);
  }

  @Override
  public String stage() {
    return meters.stage();
  }

  /** One decoder call of the stage's generator (its decoding thread): batch size, tokens, latency. */
  @Override
  public void onCall(Phase phase, int sequences, int tokens, int paddedTokens, long nanos) {
    meters.batch(sequences, tokens, paddedTokens, nanos);
  }

  /** Removes the stage's meters from the registry; {@link #snapshot()} still answers. Idempotent. */
  @Override
  public void close() {
    meters.close();
  }

  /** A consistent-enough copy for printing (each meter is read atomically, not all together). */
  public Snapshot snapshot() {
    return new Snapshot(meters.inCount(),
        meters.outCount(PipelineCounters.OUTPUT_SUMMARY) + meters.outCount(PipelineCounters.OUTPUT_REPLY),
        meters.stageCount(PipelineCounters.DUPLICATES), meters.stageCount(PipelineCounters.REFUSED),
        meters.deadLettersByReason(), meters.stageCount(PipelineCounters.PROMPT_TOKENS),
        meters.stageCount(PipelineCounters.GENERATED_TOKENS), meters.batches(), meters.batchedItems(),
        meters.inferenceNanos());
  }

  /**
   * @param requests         request records read
   * @param generated        output records forwarded (summaries and replies)
   * @param duplicates       requests skipped because their (input id, kind) was answered or is in flight
   * @param refusedOffers    submissions the generator refused because its queue was full (offered again later)
   * @param deadLetters      dead letters by reason code, in code order (zero counts omitted)
   * @param promptTokens     prompt tokens of the generations forwarded
   * @param generatedTokens  tokens of the generations forwarded
   * @param decoderCalls     decoder calls (prefills and decode steps)
   * @param decodedSequences sequences in those calls, summed (mean continuous batch = this / calls)
   * @param inferenceNanos   time spent in decoder calls
   */
  public record Snapshot(long requests, long generated, long duplicates, long refusedOffers,
                         Map<String, Long> deadLetters, long promptTokens, long generatedTokens, long decoderCalls,
                         long decodedSequences, long inferenceNanos) {

    public long deadLettersTotal() {
      return deadLetters.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "requests=%d generated=%d duplicates=%d refused_offers=%d"
              + " dead_letters=%d %s prompt_tokens=%d generated_tokens=%d decoder_calls=%d (mean batch %.1f, %.1f s)",
          requests, generated, duplicates, refusedOffers, deadLettersTotal(), deadLetters, promptTokens,
          generatedTokens, decoderCalls, decoderCalls == 0 ? 0.0 : (double) decodedSequences / decoderCalls,
          TimeUnit.NANOSECONDS.toMillis(inferenceNanos) / 1000.0);
    }
  }
}
