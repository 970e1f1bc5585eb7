package io.nlpstream.models.eval;

import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.IntConsumer;

/**
 * Scores the GPT stage's runtime (the same {@link Generator} the pipeline uses, with its decoding
 * parameters) on summarisation and reply data with {@link Rouge} (F-measures, best over the
 * references), next to a simple baseline scored the same way:
 * <ul>
 *   <li><b>summary</b>: the <em>lead</em>: the first sentences of the input (split after {@code . ! ?}
 *       and at line ends), cut to {@code L} words, where {@code L} is the mean word count of the
 *       references of the <em>whole evaluated data set</em> (per example: the mean over its
 *       references; then the mean over examples). One length for all examples on purpose: a
 *       per-example length would hand the baseline each reference's length, which no real system
 *       knows.</li>
 *   <li><b>reply</b>: the most frequent reply of the <em>training</em> dialogues (every turn after
 *       the first, compared exactly after trimming; ties go to the lexicographically first), the
 *       same answer for every example.</li>
 * </ul>
 * Generation goes through the generator's continuous batcher: up to {@code window} requests are
 * submitted at once (a rejected submission waits for the oldest to finish), in data order. Reply
 * inputs are the turns so far joined by newlines; a blank input is not generated from and scores as
 * an empty prediction. Each method returns the figures as an ordered
 * map, ready to print as one JSON object. Stateless; the generator stays owned by the caller.
 */
public final class GeneratorEvaluation {

  private GeneratorEvaluation() {}

  /**
   * ROUGE of generated summaries and of the lead baseline.
   *
   * @param window requests in flight at most (the generator's queue size is a good value)
   */
  public static Map<String, Object> summary(Generator generator, List<SummaryExample> data, DecodingParams params,
                                            int window, IntConsumer progress) {
    List<String> inputs = data.stream().map(SummaryExample::text).toList();
    Run run = generate(generator, GenerationKind.SUMMARY, inputs, params, window, progress);
    Rouge model = new Rouge();
    for (int i = 0; i < data.size(); i++) {
      model.add(run.texts().get(i), data.get(i).references());
    }
    int leadWords = meanReferenceWords(data);
    Rouge baseline = new Rouge();
    for (SummaryExample e : data) {
      baseline.add(lead(e.text(), leadWords), e.references());
    }
    Map<String, Object> out = result("summary", generator, params, model, run);
    Map<String, Object> b = scores(baseline);
    b.put("rule", "lead: first sentences of the input cut to " + leadWords
        + " words, the mean reference length of the data set");
    out.put("baseline", b);
    return out;
  }

  /**
   * ROUGE of generated replies and of the most-frequent-training-reply baseline.
   *
   * @param training the training dialogues (their turns), for the baseline
   */
  public static Map<String, Object> reply(Generator generator, List<ReplyExample> data, List<List<String>> training,
                                          DecodingParams params, int window, IntConsumer progress) {
    List<String> inputs = data.stream().map(e -> String.join("\n", e.context())).toList();
    Run run = generate(generator, GenerationKind.REPLY, inputs, params, window, progress);
    Rouge model = new Rouge();
    for (int i = 0; i < data.size(); i++) {
      model.add(run.texts().get(i), List.of(data.get(i).reference()));
    }
    String frequent = mostFrequentReply(training);
    Rouge baseline = new Rouge();
    for (ReplyExample e : data) {
      baseline.add(frequent, List.of(e.reference()));
    }
    Map<String, Object> out = result("reply", generator, params, model, run);
    Map<String, Object> b = scores(baseline);
    b.put("rule", "the most frequent reply of the training dialogues: \"" + frequent + "\"");
    out.put("baseline", b);
    return out;
  }

  /** Generated texts in data order, tokens generated and the wall time of the whole run. */
  private record Run(List<String> texts, long tokens, long truncated, double seconds) {}

  private static Run generate(Generator generator, GenerationKind kind, List<String> inputs, DecodingParams params,
                              int window, IntConsumer progress) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be >= 1, was " + window);
    }
    List<CompletableFuture<Generation>> futures = new ArrayList<>(inputs.size());
    Deque<CompletableFuture<Generation>> inFlight = new ArrayDeque<>();
    long start = System.nanoTime();
    int done = 0;
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).isBlank()) {
        // Nothing to generate from (data sets hold a few empty dialogues): scored as an empty prediction.
        futures.add(null);
        progress.accept(++done);
        continue;
      }
      GenerationRequest request = new GenerationRequest("eval-" + i, kind, inputs.get(i), params);
      CompletableFuture<Generation> f = null;
      while (f == null) {
        while (inFlight.size() >= window) {
          join(inFlight.removeFirst());
          progress.accept(++done);
        }
        try {
          f = generator.submit(request);
        } catch (RejectedExecutionException full) {
          if (inFlight.isEmpty()) {
            throw full;
          }
          join(inFlight.removeFirst());
          progress.accept(++done);
        }
      }
      futures.add(f);
      inFlight.addLast(f);
    }
    while (!inFlight.isEmpty()) {
      join(inFlight.removeFirst());
      progress.accept(++done);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    List<String> texts = new ArrayList<>(inputs.size());
    long tokens = 0;
    long truncated = 0;
    for (CompletableFuture<Generation> f : futures) {
      if (f == null) {
        texts.add("");
        continue;
      }
      Generation g = f.join();
      texts.add(g.text());
      tokens += g.generatedTokens();
      truncated += g.truncated() ? 1 : 0;
    }
    return new Run(texts, tokens, truncated, seconds);
  }

  private static void join(CompletableFuture<Generation> f) {
    try {
      f.join();
    } catch (CompletionException | CancellationException e) {
      throw new IllegalStateException("generation failed during the evaluation", e.getCause() == null ? e : e.getCause());
    }
  }

  private static Map<String, Object> result(String task, Generator generator, DecodingParams params, Rouge model,
                                            Run run) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("task", task);
    out.put("model", generator.modelId());
    out.put("n", model.n());
    out.putAll(scores(model));
    out.put("tokens_per_s", run.seconds() > 0 ? run.tokens() / run.seconds() : 0);
    out.put("generated_tokens", run.tokens());
    out.put("truncated_inputs", run.truncated());
    out.put("max_new_tokens", params.maxNewTokens());
    out.put("decoding", params.isGreedy() ? "greedy" : "sampling t=" + params.temperature() + " top_k="
        + params.topK() + " top_p=" + params.topP());
    out.put("seconds", run.seconds());
    return out;
  }

  private static Map<String, Object> scores(Rouge rouge) {
    Rouge.Scores s = rouge.mean();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rouge1", s.rouge1());
    out.put("rouge2", s.rouge2());
    out.put("rougeL", s.rougeL());
    return out;
  }

  /** Mean over examples of the mean word count (whitespace-separated) of each example's references. */
  static int meanReferenceWords(List<SummaryExample> data) {
    double sum = 0;
    int n = 0;
    for (SummaryExample e : data) {
      if (e.references().isEmpty()) {
        continue;
      }
      double words = 0;
      for (String r : e.references()) {
        words += words(r).size();
      }
      sum += words / e.references().size();
      n++;
    }
    return n == 0 ? 0 : (int) Math.round(sum / n);
  }

  /** The first sentences of {@code text} (split after . ! ? and at line ends), cut to {@code maxWords} words. */
  static String lead(String text, int maxWords) {
    List<String> out = new ArrayList<>();
    for (String sentence : text.split("(?<=[.!?])\\s+|\\R")) {
      for (String w : words(sentence)) {
        if (out.size() == maxWords) {
          return String.join(" ", out);
        }
        out.add(w);
      }
    }
    return String.join(" ", out);
  }

  /** The most frequent turn after the first over {@code dialogues}; ties: lexicographically first. */
  static String mostFrequentReply(List<List<String>> dialogues) {
    Map<String, Integer> counts = new HashMap<>();
    for (List<String> turns : dialogues) {
      for (String t : turns.subList(Math.min(1, turns.size()), turns.size())) {
        counts.merge(t.strip(), 1, Integer::sum);
      }
    }
    return counts.entrySet().stream()
        .max(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue)
            .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
        .map(Map.Entry::getKey)
        .orElseThrow(() -> new IllegalArgumentException("the training dialogues hold no reply"));
  }

  private static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    for (String w : s.strip().split("\\s+")) {
      if (!w.isEmpty()) {
        out.add(w);
      }
    }
    return out;
  }
}
