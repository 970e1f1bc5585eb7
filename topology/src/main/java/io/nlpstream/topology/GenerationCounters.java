package io.nlpstream.topology;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counts of the GPT stage: requests read, generations forwarded, duplicates skipped,
 * offers the generator refused (backpressure), dead letters by reason, tokens. Owned by
 * {@link GptStage}; every stream task and the dead-letter handler count into the same instance.
 *
 * <p>Thread-safe. Counts are of records handled by this process: under exactly-once, a request whose
 * transaction aborted is handled, and counted, again.
 */
public final class GenerationCounters implements DeadLetterCounter {

  private final LongAdder requests = new LongAdder();
  private final LongAdder submitted = new LongAdder();
  private final LongAdder generated = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder refusedOffers = new LongAdder();
  private final LongAdder promptTokens = new LongAdder();
  private final LongAdder generatedTokens = new LongAdder();
  private final Map<DeadLetterReason, LongAdder> deadLetters = new EnumMap<>(DeadLetterReason.class);

  public GenerationCounters() {
    for (DeadLetterReason r : DeadLetterReason.values()) {
      deadLetters.put(r, new LongAdder());  // filled once here, read-only afterwards: safe to share
    }
  }

  void request() {
    requests.increment();
  }

  void submitted() {
    submitted.increment();
  }

  void generated(int prompt, int tokens) {
    generated.increment();
    promptTokens.add(prompt);
    generatedTokens.add(tokens);
  }

  void duplicate() {
    duplicates.increment();
  }

  void refusedOffer() {
    refusedOffers.increment();
  }

  @Override
  public void deadLetter(DeadLetterReason reason) {
    deadLetters.get(reason).increment();
  }

  public Snapshot snapshot() {
    Map<String, Long> dl = new LinkedHashMap<>();
    deadLetters.forEach((reason, n) -> {
      long v = n.sum();
      if (v > 0) {
        dl.put(reason.code(), v);
      }
    });
    return new Snapshot(requests.sum(), submitted.sum(), generated.sum(), duplicates.sum(), refusedOffers.sum(),
        Map.copyOf(dl), promptTokens.sum(), generatedTokens.sum());
  }

  /**
   * @param requests        request records read
   * @param submitted       requests handed to the generator (each is one generation: the model's work)
   * @param generated       output records forwarded
   * @param duplicates      requests skipped because their (input id, kind) was answered or is in flight
   * @param refusedOffers   submissions the generator refused because its queue was full (offered again later)
   * @param deadLetters     dead letters by reason code (zero counts omitted)
   * @param promptTokens    prompt tokens of the generations forwarded
   * @param generatedTokens tokens of the generations forwarded
   */
  public record Snapshot(long requests, long submitted, long generated, long duplicates, long refusedOffers,
                         Map<String, Long> deadLetters, long promptTokens, long generatedTokens) {

    public long deadLettersTotal() {
      return deadLetters.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public String toString() {
      return "requests=" + requests + " submitted=" + submitted + " generated=" + generated + " duplicates="
          + duplicates + " refused_offers=" + refusedOffers + " dead_letters=" + deadLettersTotal() + " " + deadLetters
          + " prompt_tokens=" + promptTokens + " generated_tokens=" + generatedTokens;
    }
  }
}
