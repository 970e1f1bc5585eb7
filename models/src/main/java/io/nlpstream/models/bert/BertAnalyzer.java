package io.nlpstream.models.bert;

import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.bert.Analysis.Sentiment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The BERT stage: one or more {@link EncoderPass}es that together serve every {@link Role}, their
 * results merged into one {@link Analysis} per text.
 *
 * <p>The usual analyzer has one pass: a multi-head model whose one network call per batch feeds
 * every head. A role taken from another model (say a Hugging Face NER model next to the default
 * bundle's sentiment and classes) adds that model's pass: its own tokenization and its own network
 * call per batch, so the text is encoded once per model. A pass serving only sentence-level roles
 * runs window 0 of each text; the pass serving entities runs every window.
 *
 * <p>Merging: each role's field comes from the pass that serves it; {@code truncated} is true when
 * the text is longer than the window of any of the models, {@code tokens} is the largest of the
 * models' token counts (tokenizers differ), and {@link #tokenCount} likewise the largest.
 *
 * <p>Threads: {@link #analyze} and {@link #tokenCount} are thread-safe. Tokenization runs in the
 * callers' threads; native network calls are serialised, one batch at a time for the whole
 * analyzer (all passes), because each ONNX Runtime session's intra-op pool is sized to the cores:
 * two concurrent runs would oversubscribe them and both get slower. {@link #close()} waits for
 * running calls and makes later calls fail with {@link IllegalStateException}.
 *
 * <p>Ownership: the analyzer owns its passes and closes them.
 */
public final class BertAnalyzer implements TextAnalyzer {

  private final List<EncoderPass> passes;
  private final Map<Role, Integer> passOf = new EnumMap<>(Role.class);
  private final Map<String, String> models;

  /** Read: a call in progress; write: closing. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final ReentrantLock nativeCalls = new ReentrantLock();
  private boolean closed;

  /**
   * @param passes passes whose roles are disjoint and together cover every {@link Role}; they run
   *               in this order
   * @param models model ids by role (and {@code encoder}), returned by {@link #models()}
   * @throws IllegalArgumentException if a role is served twice or not at all
   */
  public BertAnalyzer(List<EncoderPass> passes, Map<String, String> models) {
    this.passes = List.copyOf(passes);
    for (int p = 0; p < this.passes.size(); p++) {
      for (Role role : this.passes.get(p).roles()) {
        if (passOf.put(role, p) != null) {
          throw new IllegalArgumentException("role " + role.key() + " is served by two passes");
        }
      }
    }
    if (passOf.size() != Role.values().length) {
      throw new IllegalArgumentException("roles served: " + passOf.keySet() + ", every role needs a pass");
    }
    this.models = Map.copyOf(models);
  }

  /** One multi-head network serving every role. */
  public BertAnalyzer(EncoderPass pass, Map<String, String> models) {
    this(List.of(pass), models);
  }

  @Override
  public List<Analysis> analyze(List<String> texts) {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return analyzeOpen(texts);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private List<Analysis> analyzeOpen(List<String> texts) {
    List<List<EncoderPass.Result>> perPass = new ArrayList<>(passes.size());
    for (EncoderPass pass : passes) {
      perPass.add(pass.run(texts, nativeCalls));
    }
    List<Analysis> results = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      boolean truncated = false;
      int tokens = 0;
      for (List<EncoderPass.Result> r : perPass) {
        truncated |= r.get(i).truncated();
        tokens = Math.max(tokens, r.get(i).tokens());
      }
      Sentiment sentiment = perPass.get(passOf.get(Role.SENTIMENT)).get(i).sentiment();
      List<Entity> entities = perPass.get(passOf.get(Role.ENTITIES)).get(i).entities();
      List<ClassScore> classes = perPass.get(passOf.get(Role.CLASSES)).get(i).classes();
      results.add(new Analysis(sentiment, entities, classes, truncated, tokens));
    }
    return results;
  }

  @Override
  public int tokenCount(String text) {
    Objects.requireNonNull(text, "text");
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      int count = 0;
      for (EncoderPass pass : passes) {
        count = Math.max(count, pass.tokenCount(text));
      }
      return count;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public Map<String, String> models() {
    return models;
  }

  /** The passes, in run order. */
  public List<EncoderPass> passes() {
    return passes;
  }

  /** The pass that serves {@code role}. */
  public EncoderPass passOf(Role role) {
    return passes.get(passOf.get(role));
  }

  /** The windowing of the entity pass (window size = that model's max tokens). */
  public SlidingWindows windows() {
    return passOf(Role.ENTITIES).windows();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("analyzer " + models + " is closed");
    }
  }

  /** Waits for running calls, then releases every pass. Idempotent. */
  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      RuntimeException failure = null;
      for (EncoderPass pass : passes) {
        try {
          pass.close();
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}
