package io.nlpstream.models.bert;

import io.nlpstream.models.batch.TokenBudget;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.bert.Analysis.Sentiment;
import io.nlpstream.models.bert.SlidingWindows.Plan;
import io.nlpstream.models.bert.SlidingWindows.Window;
import io.nlpstream.models.tokenizer.Casing;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.Lock;

/**
 * One model's share of the BERT stage: its tokenizer, its network and the heads of the {@link
 * Role}s it serves, run as one network pass per length-sorted batch.
 *
 * <p>Per {@link #run} call: every text is tokenized once, in full. When the pass serves {@link
 * Role#ENTITIES}, each text's windows (see {@link SlidingWindows}) become sequences {@code [CLS]
 * content [SEP]} and each token's prediction comes from the window where it is most central; a pass
 * serving sentence-level roles only needs, and runs, window 0 of each text. All sequences of the
 * call are sorted by length and cut by {@link TokenBudget#partition} into batches of at most {@code
 * maxBatchTokens} padded tokens, each padded to its longest sequence. Window 0 feeds the sentence
 * heads.
 *
 * <p>Threads: {@link #run} may be called concurrently; tokenization runs in the caller's thread and
 * every network call holds the lock the caller passes (the analyzer's, shared by all its passes,
 * so that two models never compete for the cores). Ownership: the pass owns the tokenizer and the
 * network and closes them (if the constructor throws, they stay the caller's); the {@link
 * BertAnalyzer} it is handed to closes the pass.
 */
public final class EncoderPass implements AutoCloseable {

  /**
   * The heads a pass decodes; a null head is a role the pass does not serve.
   *
   * @param sentiment labels and decoding of the network's sentiment logits, or null
   * @param classes   labels and decoding of the network's class logits, or null
   * @param entities  labels and decoding of the network's per-token entity logits, or null
   */
  public record Heads(SentimentHead sentiment, ClassHead classes, EntityDecoder entities) {
    /** The roles of the non-null heads. */
    public Set<Role> roles() {
      Set<Role> roles = EnumSet.noneOf(Role.class);
      if (sentiment != null) {
        roles.add(Role.SENTIMENT);
      }
      if (classes != null) {
        roles.add(Role.CLASSES);
      }
      if (entities != null) {
        roles.add(Role.ENTITIES);
      }
      return Collections.unmodifiableSet(roles);
    }
  }

  /**
   * What one pass found in one text: the fields of the roles it serves, null for the others.
   *
   * @param truncated the text is longer than this model's window
   * @param tokens    this model's tokens of the whole text, plus [CLS] and [SEP]
   */
  public record Result(Sentiment sentiment, List<ClassScore> classes, List<Entity> entities,
                       boolean truncated, int tokens) {}

  /** One network sequence: window {@code window} of text {@code text}. */
  private record Sequence(int text, int window, Window span) {
    int length() {
      return span.length() + 2;
    }
  }

  private final TextTokenizer tokenizer;
  private final BertNetwork network;
  private final Heads heads;
  private final SlidingWindows windows;
  private final int maxBatchTokens;

  /**
   * @param heads          the heads of the roles this pass serves (at least one); the network must
   *                       return the logits of each, in the heads' label order
   * @param windows        window size (the model's max tokens) and stride
   * @param maxBatchTokens padded tokens per network call (batch size x longest sequence); a single
   *                       window larger than this still runs, alone
   */
  public EncoderPass(TextTokenizer tokenizer, BertNetwork network, Heads heads, SlidingWindows windows,
                     int maxBatchTokens) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.network = Objects.requireNonNull(network, "network");
    this.heads = Objects.requireNonNull(heads, "heads");
    this.windows = Objects.requireNonNull(windows, "windows");
    if (heads.roles().isEmpty()) {
      throw new IllegalArgumentException("a pass needs at least one head");
    }
    if (maxBatchTokens < 1) {
      throw new IllegalArgumentException("maxBatchTokens must be >= 1, was " + maxBatchTokens);
    }
    this.maxBatchTokens = maxBatchTokens;
  }

  /** The roles this pass serves. */
  public Set<Role> roles() {
    return heads.roles();
  }

  /** The windowing in use (window size = the model's max tokens). */
  public SlidingWindows windows() {
    return windows;
  }

  public int maxBatchTokens() {
    return maxBatchTokens;
  }

  /** Tokens of {@code text} in this model's first window, [CLS] and [SEP] included. */
  int tokenCount(String text) {
    return Math.min(tokenizer.encode(text).size() + 2, windows.maxTokens());
  }

  /**
   * Runs the pass over {@code texts}; result {@code i} belongs to {@code texts.get(i)}.
   *
   * @param nativeCalls held during each network call
   */
  List<Result> run(List<String> texts, Lock nativeCalls) {
    boolean entities = heads.entities() != null;
    boolean caseIds = network.needsCaseIds();
    int n = texts.size();
    Tokens[] tokens = new Tokens[n];
    int[][] casing = new int[n][];
    int[][] owners = new int[n][];
    List<Sequence> sequences = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String text = Objects.requireNonNull(texts.get(i), "text " + i);
      tokens[i] = tokenizer.encode(text);
      if (caseIds) {
        casing[i] = Casing.of(text, tokens[i]);
      }
      if (entities) {
        Plan plan = windows.plan(tokens[i].size());
        owners[i] = plan.owner();
        for (int w = 0; w < plan.windows().size(); w++) {
          sequences.add(new Sequence(i, w, plan.windows().get(w)));
        }
      } else {
        sequences.add(new Sequence(i, 0, new Window(0, Math.min(tokens[i].size(), windows.capacity()))));
      }
    }

    int sentimentLabels = heads.sentiment() == null ? 0 : heads.sentiment().labels().size();
    int classLabels = heads.classes() == null ? 0 : heads.classes().labels().size();
    int entityLabels = entities ? heads.entities().labels().size() : 0;
    float[][] sentimentLogits = new float[n][];
    float[][] classLogits = new float[n][];
    float[][][] entityProbs = new float[n][][];
    for (int i = 0; i < n && entities; i++) {
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
      long[] cases = caseIds ? new long[size * seq] : null;
      Arrays.fill(ids, tokenizer.padId());
      for (int r = 0; r < size; r++) {
        Sequence s = sequences.get(batch[r]);
        long[] textIds = tokens[s.text()].ids();
        int row = r * seq;
        ids[row] = tokenizer.clsId();
        System.arraycopy(textIds, s.span().start(), ids, row + 1, s.span().length());
        ids[row + 1 + s.span().length()] = tokenizer.sepId();
        Arrays.fill(mask, row, row + s.length(), 1L);
        if (caseIds) {
          for (int k = 0; k < s.span().length(); k++) {
            cases[row + 1 + k] = casing[s.text()][s.span().start() + k];
          }
        }
      }

      BertNetwork.Logits logits;
      nativeCalls.lock();
      try {
        logits = network.run(new BertNetwork.Batch(ids, mask, cases, size, seq));
      } finally {
        nativeCalls.unlock();
      }

      for (int r = 0; r < size; r++) {
        Sequence s = sequences.get(batch[r]);
        if (s.window() == 0) {
          if (sentimentLabels > 0) {
            sentimentLogits[s.text()] = Arrays.copyOfRange(
                logits.sentiment(), r * sentimentLabels, (r + 1) * sentimentLabels);
          }
          if (classLabels > 0) {
            classLogits[s.text()] = Arrays.copyOfRange(logits.classes(), r * classLabels, (r + 1) * classLabels);
          }
        }
        if (entities) {
          int[] owner = owners[s.text()];
          for (int t = s.span().start(); t < s.span().end(); t++) {
            if (owner[t] == s.window()) {
              int position = r * seq + 1 + (t - s.span().start()); // +1: [CLS]
              entityProbs[s.text()][t] = Softmax.of(logits.entities(), position * entityLabels, entityLabels);
            }
          }
        }
      }
    }

    List<Result> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Tokens tk = tokens[i];
      results.add(new Result(
          sentimentLabels > 0 ? heads.sentiment().sentiment(sentimentLogits[i], 0) : null,
          classLabels > 0 ? heads.classes().scores(classLogits[i], 0) : null,
          entities ? heads.entities().decode(texts.get(i), tk.starts(), tk.ends(), tk.wordIds(), entityProbs[i]) : null,
          tk.size() > windows.capacity(),
          tk.size() + 2));
    }
    return results;
  }

  /** Releases the network and the tokenizer. */
  @Override
  public void close() {
    try {
      network.close();
    } finally {
      tokenizer.close();
    }
  }
}
