package io.nlpstream.models.bert;

import io.nlpstream.models.batch.TokenBudget;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.bert.Analysis.Sentiment;
import io.nlpstream.models.bert.SlidingWindows.Plan;
import io.nlpstream.models.bert.SlidingWindows.Window;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The BERT stage: tokenizer, sliding windows, one network pass per batch, three heads.
 *
 * <p>Per {@link #analyze} call: every text is tokenized once, in full; its windows (see {@link
 * SlidingWindows}) become encoder sequences {@code [CLS] content [SEP]}. All sequences of the call
 * are sorted by length and cut by {@link TokenBudget#partition} into batches of at most {@code
 * maxBatchTokens} padded tokens, each padded to its longest sequence (padding to the longest of an
 * unsorted batch wastes what batching gains on CPU). Window 0 of a text feeds the sentence heads
 * (sentiment, classes); every window feeds the entity head, each token's prediction coming from the
 * window where it is most central, and entities are decoded over the whole text.
 *
 * <p>Threads: {@link #analyze} and {@link #tokenCount} are thread-safe. Tokenization runs in the
 * callers' threads; native network calls are serialised, one batch at a time for the whole
 * analyzer, because each ONNX Runtime session's intra-op pool is sized to the cores: two concurrent
 * runs would oversubscribe them and both get slower. {@link #close()} waits for running calls and
 * makes later calls fail with {@link IllegalStateException}.
 *
 * <p>Ownership: the analyzer owns the tokenizer and the network and closes them.
 */
public final class BertAnalyzer implements TextAnalyzer {

  private final TextTokenizer tokenizer;
  private final BertNetwork network;
  private final SentimentHead sentimentHead;
  private final ClassHead classHead;
  private final EntityDecoder entityDecoder;
  private final SlidingWindows windows;
  private final int maxBatchTokens;
  private final Map<String, String> models;

  /** Read: a call in progress; write: closing. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final ReentrantLock nativeCalls = new ReentrantLock();
  private boolean closed;

  /**
   * @param windows        window size (the encoder's max tokens) and stride
   * @param maxBatchTokens padded tokens per network call (batch size x longest sequence); a single
   *                       window larger than this still runs, alone
   * @param models         model ids by role, returned by {@link #models()}
   */
  public BertAnalyzer(TextTokenizer tokenizer, BertNetwork network, SentimentHead sentimentHead,
                      ClassHead classHead, EntityDecoder entityDecoder, SlidingWindows windows,
                      int maxBatchTokens, Map<String, String> models) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.network = Objects.requireNonNull(network, "network");
    this.sentimentHead = Objects.requireNonNull(sentimentHead, "sentimentHead");
    this.classHead = Objects.requireNonNull(classHead, "classHead");
    this.entityDecoder = Objects.requireNonNull(entityDecoder, "entityDecoder");
    this.windows = Objects.requireNonNull(windows, "windows");
    if (maxBatchTokens < 1) {
      throw new IllegalArgumentException("maxBatchTokens must be >= 1, was " + maxBatchTokens);
    }
    this.maxBatchTokens = maxBatchTokens;
    this.models = Map.copyOf(models);
  }

  /** One encoder sequence: window {@code window} of text {@code text}. */
  private record Sequence(int text, int window, Window span) {
    int length() {
      return span.length() + 2;
    }
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
    int n = texts.size();
    Tokens[] tokens = new Tokens[n];
    Plan[] plans = new Plan[n];
    List<Sequence> sequences = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      tokens[i] = tokenizer.encode(Objects.requireNonNull(texts.get(i), "text " + i));
      plans[i] = windows.plan(tokens[i].size());
      List<Window> ws = plans[i].windows();
      for (int w = 0; w < ws.size(); w++) {
        sequences.add(new Sequence(i, w, ws.get(w)));
      }
    }

    int sentimentLabels = sentimentHead.labels().size();
    int classLabels = classHead.labels().size();
    int entityLabels = entityDecoder.labels().size();
    float[][] sentimentLogits = new float[n][];
    float[][] classLogits = new float[n][];
    float[][][] entityProbs = new float[n][][];
    for (int i = 0; i < n; i++) {
      entityProbs[i] = new float[tokens[i].size()][];
    }

    for (int[] batch : TokenBudget.partition(sequences, Sequence::length, maxBatchTokens, Integer.MAX_VALUE)) {
      int size = batch.length;
      int seq = 0;
      for (int s : batch) {
        seq = Math.max(seq, sequences.get(s).length());
      }
      long[] ids = new long[size * seq];
      long[] mask = new long[size * seq];
      Arrays.fill(ids, tokenizer.padId());
      for (int r = 0; r < size; r++) {
        Sequence s = sequences.get(batch[r]);
        long[] textIds = tokens[s.text()].ids();
        int row = r * seq;
        ids[row] = tokenizer.clsId();
        System.arraycopy(textIds, s.span().start(), ids, row + 1, s.span().length());
        ids[row + 1 + s.span().length()] = tokenizer.sepId();
        Arrays.fill(mask, row, row + s.length(), 1L);
      }

      BertNetwork.Logits logits = runSerialised(ids, mask, size, seq);

      for (int r = 0; r < size; r++) {
        Sequence s = sequences.get(batch[r]);
        if (s.window() == 0) {
          sentimentLogits[s.text()] = Arrays.copyOfRange(
              logits.sentiment(), r * sentimentLabels, (r + 1) * sentimentLabels);
          classLogits[s.text()] = Arrays.copyOfRange(
              logits.classes(), r * classLabels, (r + 1) * classLabels);
        }
        int[] owner = plans[s.text()].owner();
        for (int t = s.span().start(); t < s.span().end(); t++) {
          if (owner[t] == s.window()) {
            int position = r * seq + 1 + (t - s.span().start()); // +1: [CLS]
            entityProbs[s.text()][t] = Softmax.of(logits.entities(), position * entityLabels, entityLabels);
          }
        }
      }
    }

    List<Analysis> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Tokens tk = tokens[i];
      Sentiment sentiment = sentimentHead.sentiment(sentimentLogits[i], 0);
      List<ClassScore> classes = classHead.scores(classLogits[i], 0);
      List<Entity> entities = entityDecoder.decode(texts.get(i), tk.starts(), tk.ends(), tk.wordIds(), entityProbs[i]);
      results.add(new Analysis(sentiment, entities, classes, plans[i].truncated(), tk.size() + 2));
    }
    return results;
  }

  private BertNetwork.Logits runSerialised(long[] ids, long[] mask, int batch, int seq) {
    nativeCalls.lock();
    try {
      return network.run(ids, mask, batch, seq);
    } finally {
      nativeCalls.unlock();
    }
  }

  @Override
  public int tokenCount(String text) {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return Math.min(tokenizer.encode(text).size() + 2, windows.maxTokens());
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public Map<String, String> models() {
    return models;
  }

  /** The windowing in use (window size = the encoder's max tokens). */
  public SlidingWindows windows() {
    return windows;
  }

  public int maxBatchTokens() {
    return maxBatchTokens;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("analyzer " + models + " is closed");
    }
  }

  /** Waits for running calls, then releases the tokenizer and the network. Idempotent. */
  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      try {
        network.close();
      } finally {
        tokenizer.close();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}
