package io.nlpstream.models.gpt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.models.runtime.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Generator} with continuous batching: one decoding thread owns the running batch and, at
 * every iteration,
 * <ol>
 *   <li>drops sequences that finished (or were cancelled) from the batch;</li>
 *   <li>admits waiting requests, first come first served, while the batch has room (max batch size,
 *       token budget of prompt + max_new_tokens per sequence, prefill budget); runs their prefill
 *       as one left-padded call over an empty past and samples each one's first token;</li>
 *   <li>lays the KV cache out anew when rows left or joined: kept rows and new rows, all
 *       left-padded to the longest (masked), columns that are padding for every row trimmed;</li>
 *   <li>runs one decode step for all sequences of the batch (each feeds its last token, position =
 *       its own length, so left padding does not shift positions), samples, and completes the
 *       futures of those that finished.</li>
 * </ol>
 * The head of the queue is never overtaken: when it does not fit the budget, admission waits for
 * running sequences to finish (no starvation of long requests).
 *
 * <p>With {@link GeneratorOptions#kvCache()} off, each iteration instead recomputes every sequence
 * in full over an empty past: the reference path that tests compare the cached path against.
 *
 * <p>Failure isolation: a failed prefill of several requests is retried one request at a time, so a
 * request that breaks the decoder fails only its own future; a failed decode step fails the
 * sequences of that step and empties the cache, and the loop carries on with the queue. Only
 * {@link InferenceException} (a native failure) is handled so; anything else is a bug: the loop
 * fails what it holds and stops, and the generator is closed.
 */
final class ContinuousBatchingGenerator implements Generator {

  private static final Logger LOG = LoggerFactory.getLogger(ContinuousBatchingGenerator.class);
  private static final List<String> ONNX_CANDIDATES = List.of("model.onnx", "decoder_model_merged.onnx",
      "decoder_with_past_model.onnx", "onnx/model.onnx", "onnx/decoder_model_merged.onnx");

  private final String modelId;
  private final DecoderConfig config;
  private final DecoderTokenizer tokenizer;
  private final DecoderSession session;
  private final PromptEncoder prompts;
  private final GeneratorOptions options;
  private final int contextLength;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workArrived = lock.newCondition();
  private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
  private boolean closed;
  private final Thread loop;

  // Decoding-thread state.
  private final KvCache cache;
  private final List<Sequence> running = new ArrayList<>();
  private int reservedTokens;
  private final TokenSampler.Scratch scratch = new TokenSampler.Scratch();
  private FloatBuffer logits = direct(0);

  private final AtomicLong submitted = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong decodeSteps = new AtomicLong();
  private final AtomicLong decodedRows = new AtomicLong();
  private final AtomicLong prefills = new AtomicLong();
  private final AtomicLong prefillRows = new AtomicLong();
  private final AtomicLong generatedTokens = new AtomicLong();
  private final AtomicLong prefillNanos = new AtomicLong();
  private final AtomicLong decodeNanos = new AtomicLong();
  private final AtomicInteger runningCount = new AtomicInteger();

  private ContinuousBatchingGenerator(String modelId, DecoderConfig config, DecoderTokenizer tokenizer,
                                      DecoderSession session, GeneratorOptions options) {
    this.modelId = modelId;
    this.config = config;
    this.tokenizer = tokenizer;
    this.session = session;
    this.options = options;
    this.contextLength = options.maxContextTokens() > 0
        ? Math.min(options.maxContextTokens(), config.contextLength()) : config.contextLength();
    this.prompts = new PromptEncoder(tokenizer, options.templates(), contextLength);
    this.cache = new KvCache(config.layers(), config.kvHeads(), config.headDim());
    this.loop = new Thread(this::runLoop, "nlpstream-generator-" + modelId);
    this.loop.setDaemon(true);
  }

  static ContinuousBatchingGenerator open(Path modelDir, OrtEnvironment env, OrtSession.SessionOptions sessionOptions,
                                          GeneratorOptions options) {
    if (!Files.isDirectory(modelDir)) {
      throw new ModelLoadException(modelDir.toString(), "not a model directory");
    }
    String modelId = options.modelId().orElse(modelDir.getFileName().toString());
    DecoderConfig config = DecoderConfig.read(modelDir);
    Path onnx = onnxFile(modelDir, options);
    DecoderTokenizer tokenizer = DecoderTokenizer.open(modelDir.resolve("tokenizer.json"));
    if (tokenizer.maxTokenId() >= config.vocabSize()) {
      tokenizer.close();
      throw new ModelLoadException(tokenizer.file(), "produces token ids up to " + tokenizer.maxTokenId()
          + " but config.json says vocab_size " + config.vocabSize() + ": not this model's tokenizer");
    }
    DecoderSession session;
    try {
      session = DecoderSession.open(env, sessionOptions, onnx, config, modelDir.resolve("config.json").toString(),
          modelId);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
    ContinuousBatchingGenerator generator = new ContinuousBatchingGenerator(modelId, config, tokenizer, session, options);
    LOG.info("generator {}: {} ({}, {} layers, {} heads / {} kv heads x {}, vocab {}, context {}, position_ids {},"
            + " eos {}), max batch {}, batch tokens {}, kv cache {}", modelId, onnx, config.modelType(),
        config.layers(), config.attentionHeads(), config.kvHeads(), config.headDim(), config.vocabSize(),
        generator.contextLength, session.hasPositionIds(), config.eosTokenIds(), options.maxBatchSize(),
        options.maxBatchTokens(), options.kvCache());
    generator.loop.start();
    return generator;
  }

  private static Path onnxFile(Path modelDir, GeneratorOptions options) {
    if (options.onnxFile().isPresent()) {
      Path file = modelDir.resolve(options.onnxFile().get());
      if (!Files.isRegularFile(file)) {
        throw new ModelLoadException(file.toString(), "missing (configured decoder file)");
      }
      return file;
    }
    for (String candidate : ONNX_CANDIDATES) {
      Path file = modelDir.resolve(candidate);
      if (Files.isRegularFile(file)) {
        return file;
      }
    }
    throw new ModelLoadException(modelDir.resolve(ONNX_CANDIDATES.get(0)).toString(),
        "missing: no decoder ONNX file in " + modelDir + " (looked for " + ONNX_CANDIDATES + ")");
  }

  // ------------------------------------------------------------------------------------ callers

  @Override
  public CompletableFuture<Generation> submit(GenerationRequest request) {
    long now = System.nanoTime();
    int maxNew = request.params().maxNewTokens();
    if (maxNew >= contextLength) {
      throw new IllegalArgumentException("request " + request.id() + ": max_new_tokens " + maxNew
          + " leaves no room for a prompt in the context of " + contextLength + " tokens");
    }
    EncodedPrompt prompt = prompts.encode(request.kind(), request.text(), maxNew);
    Sequence sequence = new Sequence(request, prompt, prompts.templates().forKind(request.kind()).stopStrings(),
        config.eosTokenIds(), contextLength, now);
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("generator " + modelId + " is closed");
      }
      if (waiting.size() >= options.maxWaiting()) {
        throw new RejectedExecutionException("generator " + modelId + ": " + waiting.size()
            + " requests already wait (maxWaiting); offer request " + request.id() + " again later");
      }
      waiting.add(sequence);
      submitted.incrementAndGet();
      workArrived.signal();
    } finally {
      lock.unlock();
    }
    return sequence.future;
  }

  @Override
  public EncodedPrompt prompt(GenerationKind kind, String text, int maxNewTokens) {
    return prompts.encode(kind, text, maxNewTokens);
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public int contextLength() {
    return contextLength;
  }

  @Override
  public GeneratorStats stats() {
    int waitingNow;
    lock.lock();
    try {
      waitingNow = waiting.size();
    } finally {
      lock.unlock();
    }
    return new GeneratorStats(submitted.get(), completed.get(), failed.get(), decodeSteps.get(), decodedRows.get(),
        prefills.get(), prefillRows.get(), generatedTokens.get(), prefillNanos.get(), decodeNanos.get(),
        runningCount.get(), waitingNow);
  }

  @Override
  public boolean isRunning() {
    lock.lock();
    try {
      return !closed && loop.isAlive();
    } finally {
      lock.unlock();
    }
  }

  /** Cancels what has not finished, stops the loop and releases the session and tokenizer. Idempotent. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      workArrived.signalAll();
    } finally {
      lock.unlock();
    }
    if (Thread.currentThread() == loop) {
      return; // closed from a completion callback: the loop releases everything when it returns
    }
    try {
      loop.join(TimeUnit.MINUTES.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------------------------ the loop

  private void runLoop() {
    try {
      while (true) {
        List<Sequence> admitted;
        lock.lock();
        try {
          while (!closed && waiting.isEmpty() && running.isEmpty()) {
            workArrived.await();
          }
          if (closed) {
            break;
          }
          admitted = admit();
        } finally {
          lock.unlock();
        }
        iterate(admitted);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("generator {}: decoding loop died", modelId, e);
      failAll(running, e);
      throw e;
    } finally {
      shutdown();
    }
  }

  /** Takes waiting requests that fit, first come first served. Called with the lock held. */
  private List<Sequence> admit() {
    // Rows that finished at the last step leave the batch in this iteration: their room is free now.
    int active = 0;
    int freed = 0;
    for (Sequence s : running) {
      if (s.retired()) {
        freed += s.cost();
      } else {
        active++;
      }
    }
    List<Sequence> admitted = new ArrayList<>();
    int longest = 0;
    int budget = options.maxBatchTokens() - reservedTokens + freed;
    while (!waiting.isEmpty() && active + admitted.size() < options.maxBatchSize()) {
      Sequence next = waiting.peek();
      if (next.future.isDone()) { // cancelled while waiting
        waiting.poll();
        countFailure();
        continue;
      }
      boolean batchEmpty = active == 0 && admitted.isEmpty();
      if (next.cost() > budget && !batchEmpty) {
        break; // a request larger than the whole budget runs alone
      }
      int newLongest = Math.max(longest, next.prompt.length());
      if (!admitted.isEmpty() && (long) (admitted.size() + 1) * newLongest > options.maxPrefillTokens()) {
        break;
      }
      waiting.poll();
      next.admitted = true;
      runningCount.incrementAndGet();
      admitted.add(next);
      budget -= next.cost();
      longest = newLongest;
    }
    return admitted;
  }

  private void iterate(List<Sequence> admitted) {
    for (Sequence s : admitted) {
      reservedTokens += s.cost();
    }
    if (options.kvCache()) {
      iterateCached(admitted);
    } else {
      iterateUncached(admitted);
    }
  }

  private void iterateCached(List<Sequence> admitted) {
    if (!admitted.isEmpty()) {
      admitCached(admitted);
    }
    relayout(new int[0], List.of());
    if (running.isEmpty()) {
      cache.clear();
      return;
    }
    try {
      decodeStep();
    } catch (InferenceException e) {
      LOG.warn("generator {}: decode step over {} sequences failed; failing them", modelId, running.size(), e);
      failAll(running, e);
      running.clear();
      cache.clear();
    }
  }

  /**
   * Prefills {@code admitted} in one call and joins those that continue to the batch. If the call
   * fails, retries one request at a time, so that a request that breaks the decoder fails alone.
   */
  private void admitCached(List<Sequence> admitted) {
    try {
      joinAfterPrefill(admitted, prefill(admitted));
      return;
    } catch (InferenceException batchFailure) {
      if (admitted.size() == 1) {
        LOG.warn("generator {}: prefill of request {} failed", modelId, admitted.get(0).request.id(), batchFailure);
        fail(admitted.get(0), batchFailure);
        return;
      }
      LOG.warn("generator {}: prefill of {} requests failed; retrying one by one", modelId, admitted.size(),
          batchFailure);
    }
    for (Sequence s : admitted) {
      FloatBuffer out;
      try {
        out = prefill(List.of(s));
      } catch (InferenceException e) {
        LOG.warn("generator {}: prefill of request {} failed", modelId, s.request.id(), e);
        fail(s, e);
        continue;
      }
      joinAfterPrefill(List.of(s), out);
    }
  }

  /** Samples each prefilled sequence's first token; those that go on join the batch. */
  private void joinAfterPrefill(List<Sequence> batch, FloatBuffer logits) {
    int len = logits.capacity() / (batch.size() * config.vocabSize());
    long now = System.nanoTime();
    List<Sequence> continuing = new ArrayList<>(batch.size());
    List<Integer> rows = new ArrayList<>(batch.size());
    for (int r = 0; r < batch.size(); r++) {
      Sequence s = batch.get(r);
      s.cached = s.prompt.length();
      generatedTokens.incrementAndGet();
      if (s.sample(logits, (r * len + len - 1) * config.vocabSize(), config.vocabSize(), scratch, tokenizer, now)) {
        reservedTokens -= s.cost(); // finished on its first token: never joins the batch
        complete(s, now);
      } else {
        continuing.add(s);
        rows.add(r);
      }
    }
    relayout(rows.stream().mapToInt(Integer::intValue).toArray(), continuing);
  }

  /**
   * Drops finished and cancelled rows from the batch and appends {@code joiners}, whose prefill sits
   * in the cache's staging area at {@code stagingRows}; lays the cache out anew if anything changed
   * (or if leading columns became padding for every row).
   */
  private void relayout(int[] stagingRows, List<Sequence> joiners) {
    int[] keep = retainedRows();
    int keptLength = 0;
    for (int row : keep) {
      keptLength = Math.max(keptLength, running.get(row).cached);
    }
    if (keep.length == running.size() && joiners.isEmpty() && keptLength == cache.length()) {
      return;
    }
    List<Sequence> next = new ArrayList<>(keep.length + joiners.size());
    for (int row : keep) {
      next.add(running.get(row));
    }
    next.addAll(joiners);
    cache.rebuild(keep, keptLength, stagingRows);
    running.clear();
    running.addAll(next);
  }

  /** Indices of running rows that neither finished nor were cancelled; releases the others' budget. */
  private int[] retainedRows() {
    int[] keep = new int[running.size()];
    int n = 0;
    for (int i = 0; i < running.size(); i++) {
      Sequence s = running.get(i);
      if (s.retired()) {
        reservedTokens -= s.cost();
        if (!s.finished()) {
          leave(s);
          countFailure(); // cancelled by its caller
        }
      } else {
        keep[n++] = i;
      }
    }
    return Arrays.copyOf(keep, n);
  }

  /**
   * One prefill call for {@code batch} over an empty past: the present goes to the cache's staging
   * area; returns the logits [batch, longest prompt, vocab].
   */
  private FloatBuffer prefill(List<Sequence> batch) {
    int n = batch.size();
    List<long[]> rows = new ArrayList<>(n);
    for (Sequence s : batch) {
      rows.add(s.prompt.ids());
    }
    LeftPadded in = leftPad(rows);
    int len = in.length();
    FloatBuffer out = logits(n, len);
    long start = System.nanoTime();
    session.forward(n, len, 0, in.ids(), in.mask(), in.positions(), cache.emptyPast(), cache.staging(n, len), out);
    long nanos = System.nanoTime() - start;
    prefillNanos.addAndGet(nanos);
    prefills.incrementAndGet();
    prefillRows.addAndGet(n);
    int tokens = 0;
    for (long[] row : rows) {
      tokens += row.length;
    }
    called(DecoderCallListener.Phase.PREFILL, n, tokens, n * len, nanos);
    return out;
  }

  private void decodeStep() {
    int b = running.size();
    int past = cache.length();
    long[] ids = new long[b];
    long[] mask = new long[b * (past + 1)];
    long[] positions = new long[b];
    for (int r = 0; r < b; r++) {
      Sequence s = running.get(r);
      ids[r] = s.lastToken();
      // Row r: left padding, then its s.cached tokens, then the new one.
      Arrays.fill(mask, r * (past + 1) + past - s.cached, (r + 1) * (past + 1), 1L);
      positions[r] = s.cached;
    }
    FloatBuffer out = logits(b, 1);
    long start = System.nanoTime();
    session.forward(b, 1, past, ids, mask, positions, cache.past(), cache.present(1), out);
    long nanos = System.nanoTime() - start;
    decodeNanos.addAndGet(nanos);
    cache.commit(1);
    decodeSteps.incrementAndGet();
    decodedRows.addAndGet(b);
    called(DecoderCallListener.Phase.DECODE, b, b, b, nanos);
    long now = System.nanoTime();
    for (int r = 0; r < b; r++) {
      Sequence s = running.get(r);
      s.cached++;
      generatedTokens.incrementAndGet();
      if (s.sample(out, r * config.vocabSize(), config.vocabSize(), scratch, tokenizer, now)) {
        complete(s, now);
      }
    }
  }

  private void iterateUncached(List<Sequence> admitted) {
    int[] keep = retainedRows();
    List<Sequence> next = new ArrayList<>();
    for (int row : keep) {
      next.add(running.get(row));
    }
    next.addAll(admitted);
    running.clear();
    running.addAll(next);
    if (running.isEmpty()) {
      return;
    }
    int b = running.size();
    List<long[]> rows = new ArrayList<>(b);
    for (Sequence s : running) {
      rows.add(s.allTokens());
    }
    LeftPadded in = leftPad(rows);
    int len = in.length();
    FloatBuffer out = logits(b, len);
    long start = System.nanoTime();
    long nanos;
    try {
      session.forward(b, len, 0, in.ids(), in.mask(), in.positions(), cache.emptyPast(), null, out);
      nanos = System.nanoTime() - start;
      decodeNanos.addAndGet(nanos);
    } catch (InferenceException e) {
      LOG.warn("generator {}: full recompute over {} sequences failed; failing them", modelId, b, e);
      failAll(running, e);
      running.clear();
      return;
    }
    decodeSteps.incrementAndGet();
    decodedRows.addAndGet(b);
    int tokens = 0;
    for (long[] row : rows) {
      tokens += row.length;
    }
    called(DecoderCallListener.Phase.DECODE, b, tokens, b * len, nanos);
    long now = System.nanoTime();
    for (int r = 0; r < b; r++) {
      Sequence s = running.get(r);
      generatedTokens.incrementAndGet();
      if (s.sample(out, (r * len + len - 1) * config.vocabSize(), config.vocabSize(), scratch, tokenizer, now)) {
        complete(s, now);
      }
    }
  }

  private void called(DecoderCallListener.Phase phase, int sequences, int tokens, int padded, long nanos) {
    try {
      options.listener().onCall(phase, sequences, tokens, padded, nanos);
    } catch (RuntimeException listenerFailure) {
      // A metrics bug must neither kill the loop (every running future would hang) nor fail
      // sequences that were computed; report it and go on.
      LOG.warn("generator {}: decoder call listener failed", modelId, listenerFailure);
    }
  }

  /** Decoder inputs for token rows padded on the left to the longest: [rows, length] each. */
  private record LeftPadded(long[] ids, long[] mask, long[] positions, int length) {}

  /**
   * Left padding keeps every row's last token in the last column, where the next token's logits are
   * read; positions count each row's own tokens from 0, so padding does not shift them.
   */
  private LeftPadded leftPad(List<long[]> rows) {
    int len = 0;
    for (long[] row : rows) {
      len = Math.max(len, row.length);
    }
    long[] ids = new long[rows.size() * len];
    long[] mask = new long[rows.size() * len];
    long[] positions = new long[rows.size() * len];
    Arrays.fill(ids, config.padTokenId());
    for (int r = 0; r < rows.size(); r++) {
      long[] row = rows.get(r);
      int at = r * len + len - row.length;
      System.arraycopy(row, 0, ids, at, row.length);
      Arrays.fill(mask, at, at + row.length, 1L);
      for (int t = 0; t < row.length; t++) {
        positions[at + t] = t;
      }
    }
    return new LeftPadded(ids, mask, positions, len);
  }

  /** A direct buffer view for [rows, seq, vocab] logits, reusing the largest one allocated so far. */
  private FloatBuffer logits(int rows, int seq) {
    long needed = (long) rows * seq * config.vocabSize();
    if (needed > Integer.MAX_VALUE / Float.BYTES) {
      throw new IllegalStateException("logits of " + rows + " x " + seq + " x " + config.vocabSize()
          + " exceed 2 GiB; lower maxPrefillTokens");
    }
    if (logits.capacity() < needed) {
      logits = direct((int) needed);
    }
    return logits.slice(0, (int) needed);
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  // Counters move before the future completes, so that a caller woken by it sees them.
  private void complete(Sequence s, long now) {
    if (!s.future.isDone()) {
      leave(s);
      completed.incrementAndGet();
      if (!s.future.complete(s.result(now))) { // cancelled in between
        completed.decrementAndGet();
        failed.incrementAndGet();
      }
    }
  }

  /** The sequence stops counting as running (it may still occupy a row until the next iteration). */
  private void leave(Sequence s) {
    if (s.admitted) {
      s.admitted = false;
      runningCount.decrementAndGet();
    }
  }

  private void fail(Sequence s, Throwable cause) {
    reservedTokens -= s.cost();
    failFuture(s, cause);
  }

  private void failFuture(Sequence s, Throwable cause) {
    leave(s);
    if (!s.future.isDone()) {
      failed.incrementAndGet();
      s.future.completeExceptionally(cause);
    }
  }

  private void failAll(List<Sequence> sequences, Throwable cause) {
    for (Sequence s : sequences) {
      if (!s.finished()) {
        failFuture(s, cause);
      }
      reservedTokens -= s.cost();
    }
  }

  private void countFailure() {
    failed.incrementAndGet();
  }

  private void shutdown() {
    CancellationException cancelled = new CancellationException("generator " + modelId + " closed");
    List<Sequence> pending;
    lock.lock();
    try {
      closed = true;
      pending = new ArrayList<>(waiting);
      waiting.clear();
    } finally {
      lock.unlock();
    }
    pending.addAll(running);
    running.clear();
    for (Sequence s : pending) {
      failFuture(s, cancelled);
    }
    try {
      session.close();
    } finally {
      tokenizer.close();
    }
  }
}
