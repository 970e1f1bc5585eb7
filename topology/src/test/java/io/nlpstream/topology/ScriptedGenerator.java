package io.nlpstream.topology;

import io.nlpstream.models.gpt.EncodedPrompt;
import io.nlpstream.models.gpt.FinishReason;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorStats;
import io.nlpstream.models.runtime.InferenceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;

/**
 * Test-only {@link Generator} (generation is faked in the topology's unit tests only): the text is a
 * deterministic function of the request ({@link #expectedText}), and misbehaviour is scripted:
 * <ul>
 *   <li>a text containing {@code FAIL}: the future fails with {@link InferenceException};</li>
 *   <li>{@link #hold()}: futures stay pending until {@link #release} / {@link #releaseNewestFirst};</li>
 *   <li>{@link #capacity(int)}: {@code submit} rejects while that many futures are pending (a full queue).</li>
 * </ul>
 * Every accepted request is recorded in {@link #calls}: what the model would have been asked to do.
 * Thread-safe.
 */
final class ScriptedGenerator implements Generator {

  static final String MODEL_ID = "scripted@1";

  final List<GenerationRequest> calls = new CopyOnWriteArrayList<>();
  final List<String> rejected = new CopyOnWriteArrayList<>();
  private final List<Held> held = new ArrayList<>();
  private boolean holding;
  private int capacity = Integer.MAX_VALUE;
  private boolean closed;

  private record Held(GenerationRequest request, CompletableFuture<Generation> future) {}

  static String expectedText(GenerationKind kind, String text) {
    return kind.wireName() + " of [" + text + "]";
  }

  static Generation generation(GenerationRequest r) {
    return new Generation(expectedText(r.kind(), r.text()), 10 + r.text().length(), 3, FinishReason.STOP,
        r.text().length() > 1000, Duration.ofMillis(42), Duration.ofMillis(7), List.of(1L, 2L, 3L));
  }

  synchronized ScriptedGenerator hold() {
    holding = true;
    return this;
  }

  synchronized ScriptedGenerator capacity(int pending) {
    capacity = pending;
    return this;
  }

  @Override
  public synchronized CompletableFuture<Generation> submit(GenerationRequest request) {
    if (closed) {
      throw new IllegalStateException("generator " + MODEL_ID + " is closed");
    }
    if (held.size() >= capacity) {
      rejected.add(request.id());
      throw new RejectedExecutionException("full");
    }
    calls.add(request);
    if (request.text().contains("FAIL")) {
      return CompletableFuture.failedFuture(new InferenceException(MODEL_ID, "scripted.onnx", "scripted failure",
          null));
    }
    if (holding) {
      CompletableFuture<Generation> f = new CompletableFuture<>();
      held.add(new Held(request, f));
      return f;
    }
    return CompletableFuture.completedFuture(generation(request));
  }

  /** Completes every held request, oldest first, and stops holding. */
  void release() {
    List<Held> now;
    synchronized (this) {
      holding = false;
      now = new ArrayList<>(held);
      held.clear();
    }
    now.forEach(h -> h.future().complete(generation(h.request())));
  }

  /** Completes the held request of input id {@code id} only; the others stay held. */
  void release(String id) {
    Held found = null;
    synchronized (this) {
      for (Held h : held) {
        if (h.request().id().equals(id)) {
          found = h;
        }
      }
      held.remove(found);
    }
    if (found == null) {
      throw new IllegalStateException("no held request " + id);
    }
    found.future().complete(generation(found.request()));
  }

  synchronized int pending() {
    return held.size();
  }

  List<String> calledIds() {
    return calls.stream().map(r -> r.kind().wireName() + "/" + r.id()).toList();
  }

  @Override
  public EncodedPrompt prompt(GenerationKind kind, String text, int maxNewTokens) {
    throw new UnsupportedOperationException("not used by the topology");
  }

  @Override
  public String modelId() {
    return MODEL_ID;
  }

  @Override
  public int contextLength() {
    return 512;
  }

  @Override
  public GeneratorStats stats() {
    return new GeneratorStats(calls.size(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  @Override
  public synchronized boolean isRunning() {
    return !closed;
  }

  @Override
  public void close() {
    List<Held> now;
    synchronized (this) {
      closed = true;
      now = new ArrayList<>(held);
      held.clear();
    }
    now.forEach(h -> h.future().cancel(false));
  }
}
