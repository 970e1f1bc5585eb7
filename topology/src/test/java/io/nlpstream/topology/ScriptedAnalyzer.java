package io.nlpstream.topology;

import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.runtime.InferenceException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-only {@link TextAnalyzer} (inference is faked in the topology's unit tests only): a
 * deterministic function of the text ({@link #expected}), plus scripted misbehaviour driven by
 * words in the text:
 * <ul>
 *   <li>{@code boom}: {@code analyze} throws {@link InferenceException} for a batch holding it;</li>
 *   <li>{@code gated}: {@code analyze} blocks until {@link #open()} is called;</li>
 *   <li>{@code tokenizer-bug} / {@code tokenizer-fail}: {@code tokenCount} throws
 *       {@link IllegalStateException} / {@link InferenceException} (on the stream thread, inside submit).</li>
 * </ul>
 */
final class ScriptedAnalyzer implements TextAnalyzer {

  static final String MODEL_ID = "fake-heads";
  static final Map<String, String> MODELS = Map.of("encoder", "fake-encoder@1", "sentiment", "fake-heads@1",
      "entities", "fake-heads@1", "classes", "fake-heads@1");
  private static final Pattern CAPITALISED = Pattern.compile("\\b\\p{Lu}\\p{L}+");
  private static final Set<String> PLACES = Set.of("Paris", "Berlin", "London", "Zürich");
  private static final Set<String> ORGANISATIONS = Set.of("Acme", "Google", "Siemens");

  private final CountDownLatch gate = new CountDownLatch(1);
  private final long batchDelayMillis;
  final List<List<String>> batches = new CopyOnWriteArrayList<>();
  final Set<String> completed = ConcurrentHashMap.newKeySet();
  final Set<String> started = ConcurrentHashMap.newKeySet();

  ScriptedAnalyzer() {
    this(0);
  }

  /** @param batchDelayMillis how long each batch takes, so that completions interleave with punctuations */
  ScriptedAnalyzer(long batchDelayMillis) {
    this.batchDelayMillis = batchDelayMillis;
  }

  @Override
  public List<Analysis> analyze(List<String> texts) {
    batches.add(List.copyOf(texts));
    started.addAll(texts);
    if (batchDelayMillis > 0) {
      try {
        Thread.sleep(batchDelayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    for (String t : texts) {
      if (t.contains("boom")) {
        throw new InferenceException(MODEL_ID, "fake.onnx", "scripted failure", null);
      }
    }
    if (texts.stream().anyMatch(t -> t.contains("gated"))) {
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    List<Analysis> out = new ArrayList<>();
    for (String t : texts) {
      out.add(expected(t));
    }
    completed.addAll(texts);
    return out;
  }

  /** Lets every gated batch finish. */
  void open() {
    gate.countDown();
  }

  @Override
  public int tokenCount(String text) {
    if (text.contains("tokenizer-bug")) {
      throw new IllegalStateException("scripted tokenizer bug");
    }
    if (text.contains("tokenizer-fail")) {
      throw new InferenceException(MODEL_ID, "fake-tokenizer.json", "scripted tokenizer failure", null);
    }
    return Math.min(RoutingRules.words(text) + 2, 256);
  }

  @Override
  public Map<String, String> models() {
    return MODELS;
  }

  @Override
  public void close() {
    open();
  }

  /** What this analyzer returns for {@code text}. */
  static Analysis expected(String text) {
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    Analysis.Sentiment sentiment = lower.contains("terrible") || lower.contains("bad")
        ? new Analysis.Sentiment("negative", 0.91)
        : lower.contains("good") || lower.contains("great") ? new Analysis.Sentiment("positive", 0.87)
        : new Analysis.Sentiment("neutral", 0.6);
    List<Analysis.Entity> entities = new ArrayList<>();
    Matcher m = CAPITALISED.matcher(text);
    while (m.find()) {
      String word = m.group();
      String type = PLACES.contains(word) ? "LOC" : ORGANISATIONS.contains(word) ? "ORG" : "PER";
      entities.add(new Analysis.Entity(word, type, m.start(), m.end(), 0.8));
    }
    List<Analysis.ClassScore> classes = lower.contains("match")
        ? List.of(new Analysis.ClassScore("Sports", 0.7), new Analysis.ClassScore("World", 0.2),
            new Analysis.ClassScore("Business", 0.05), new Analysis.ClassScore("Sci/Tech", 0.05))
        : List.of(new Analysis.ClassScore("World", 0.55), new Analysis.ClassScore("Business", 0.25),
            new Analysis.ClassScore("Sci/Tech", 0.15), new Analysis.ClassScore("Sports", 0.05));
    int words = RoutingRules.words(text);
    return new Analysis(sentiment, entities, classes, words > 254, words + 2);
  }
}
