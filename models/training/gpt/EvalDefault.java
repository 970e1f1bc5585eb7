import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.eval.DatasetFiles;
import io.nlpstream.models.eval.Rouge;
import io.nlpstream.models.eval.SummaryExample;
import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.EncodedPrompt;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.gpt.PromptTemplates;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Dev evaluation of a GPT-stage bundle through the Java runtime itself ({@link Generator}, built-in
 * {@code plain} templates, greedy decoding) with the project's ROUGE ({@link Rouge}: lower-cased
 * [a-z0-9]+ tokens, no stemming, best over references), plus the baselines:
 * <ul>
 *   <li>summary: the first sentences of the input (split after . ! ? and at line ends), cut to the
 *       mean word count of the data set's TRAIN references;</li>
 *   <li>reply: the most frequent reply (turn after the first) of DailyDialog train.</li>
 * </ul>
 * Sets: SAMSum val.csv (all), DialogSum dev (all), DailyDialog validation reply pairs in
 * {@link DatasetFiles#readReplies} order, every {@code --reply-every}-th one (index % N == 0;
 * 1 = all 7,069). Reply inputs are the turns so far joined by "\n".
 *
 * <pre>
 * java -cp "models/target/classes:$(cat cp.txt)" models/training/gpt/EvalDefault.java BUNDLE DATA_DIR OUT_DIR
 *     [--reply-every 7] [--limit N] [--threads 2] [--batch 16] [--summary-max-new 64] [--reply-max-new 40]
 *     [--compare OTHER_BUNDLE --compare-n 100] [--check-prompts WORK/data/dev.jsonl]
 * </pre>
 */
public class EvalDefault {

  static final ObjectMapper JSON = new ObjectMapper();

  record Example(String set, String id, GenerationKind kind, String input, List<String> references) {}

  public static void main(String[] args) throws Exception {
    Path bundle = Path.of(args[0]);
    Path data = Path.of(args[1]);
    Path out = Path.of(args[2]);
    Map<String, String> opt = new HashMap<>();
    for (int i = 3; i < args.length; i += 2) {
      opt.put(args[i], args[i + 1]);
    }
    int replyEvery = Integer.parseInt(opt.getOrDefault("--reply-every", "7"));
    int limit = Integer.parseInt(opt.getOrDefault("--limit", "0"));
    int threads = Integer.parseInt(opt.getOrDefault("--threads", "2"));
    int batch = Integer.parseInt(opt.getOrDefault("--batch", "16"));
    int summaryMaxNew = Integer.parseInt(opt.getOrDefault("--summary-max-new", "64"));
    int replyMaxNew = Integer.parseInt(opt.getOrDefault("--reply-max-new", "40"));
    Files.createDirectories(out);
    System.setProperty("OPT_OUT_TRACKING", "true");

    Map<String, List<Example>> sets = new LinkedHashMap<>();
    sets.put("samsum", summaries("samsum", data.resolve("samsum/val.csv"), limit));
    sets.put("dialogsum", summaries("dialogsum", data.resolve("dialogsum/dialogsum.dev.jsonl"), limit));
    sets.put("dailydialog", replies(data.resolve("dailydialog/dialogues_validation.txt"), replyEvery, limit));

    ObjectNode report = JSON.createObjectNode();
    report.put("bundle", bundle.toString()).put("reply_every", replyEvery).put("threads", threads)
        .put("batch", batch).put("summary_max_new_tokens", summaryMaxNew).put("reply_max_new_tokens", replyMaxNew);
    baselines(data, sets, report.putObject("baselines"));

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(threads);
      GeneratorOptions options = GeneratorOptions.builder().templates(PromptTemplates.plain())
          .maxBatchSize(batch).maxWaiting(100_000).build();
      try (Generator g = Generator.open(bundle, env, so, options)) {
        if (opt.containsKey("--check-prompts")) {
          report.set("prompt_check", checkPrompts(g, Path.of(opt.get("--check-prompts")), sets));
        }
        ObjectNode model = report.putObject("model");
        Map<String, List<Generation>> results = new LinkedHashMap<>();
        for (var e : sets.entrySet()) {
          int maxNew = e.getKey().equals("dailydialog") ? replyMaxNew : summaryMaxNew;
          long t0 = System.nanoTime();
          List<Generation> gens = run(g, e.getValue(), maxNew);
          double seconds = (System.nanoTime() - t0) / 1e9;
          results.put(e.getKey(), gens);
          model.set(e.getKey(), score(e.getValue(), gens, seconds));
          write(out.resolve("predictions-" + e.getKey() + ".jsonl"), e.getValue(), gens);
          System.err.println(e.getKey() + ": " + model.get(e.getKey()));
        }
        if (opt.containsKey("--compare")) {
          int n = Integer.parseInt(opt.getOrDefault("--compare-n", "100"));
          try (Generator other = Generator.open(Path.of(opt.get("--compare")), env, so, options)) {
            ObjectNode cmp = report.putObject("compare");
            cmp.put("other", opt.get("--compare")).put("n_per_set", n);
            for (var e : sets.entrySet()) {
              int maxNew = e.getKey().equals("dailydialog") ? replyMaxNew : summaryMaxNew;
              List<Example> sub = e.getValue().subList(0, Math.min(n, e.getValue().size()));
              List<Generation> mine = results.get(e.getKey()).subList(0, sub.size());
              List<Generation> theirs = run(other, sub, maxNew);
              int same = 0;
              double firstDiff = 0;
              for (int i = 0; i < sub.size(); i++) {
                List<Long> a = mine.get(i).tokenIds();
                List<Long> b = theirs.get(i).tokenIds();
                if (a.equals(b)) {
                  same++;
                }
                int k = 0;
                while (k < a.size() && k < b.size() && a.get(k).equals(b.get(k))) {
                  k++;
                }
                firstDiff += k;
              }
              ObjectNode c = cmp.putObject(e.getKey());
              c.put("identical_outputs", same).put("n", sub.size())
                  .put("mean_common_prefix_tokens", firstDiff / sub.size());
              c.set("rouge_this", score(sub, mine, 0));
              c.set("rouge_other", score(sub, theirs, 0));
              System.err.println("compare " + e.getKey() + ": " + c);
            }
          }
        }
        report.set("stats", JSON.valueToTree(g.stats()));
      }
    }
    String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report);
    Files.writeString(out.resolve("report.json"), text + "\n");
    System.out.println(text);
  }

  static List<Example> summaries(String set, Path file, int limit) {
    List<Example> out = new ArrayList<>();
    for (SummaryExample e : DatasetFiles.readSummaries(file)) {
      out.add(new Example(set, set + "/" + e.id(), GenerationKind.SUMMARY, e.text(), e.references()));
    }
    return limit > 0 ? out.subList(0, Math.min(limit, out.size())) : out;
  }

  static List<Example> replies(Path file, int every, int limit) {
    List<Example> out = new ArrayList<>();
    List<List<String>> dialogues = DatasetFiles.readDialogues(file);
    int index = 0;
    for (int d = 0; d < dialogues.size(); d++) {
      List<String> turns = dialogues.get(d);
      for (int i = 1; i < turns.size(); i++, index++) {
        if (index % every == 0) {
          out.add(new Example("dailydialog", "dailydialog/dev-" + d + "-" + i, GenerationKind.REPLY,
              String.join("\n", turns.subList(0, i)), List.of(turns.get(i))));
        }
      }
    }
    return limit > 0 ? out.subList(0, Math.min(limit, out.size())) : out;
  }

  static List<Generation> run(Generator g, List<Example> examples, int maxNew) throws Exception {
    List<CompletableFuture<Generation>> futures = new ArrayList<>();
    for (Example e : examples) {
      futures.add(g.submit(new GenerationRequest(e.id(), e.kind(), e.input(), DecodingParams.greedy(maxNew))));
    }
    List<Generation> out = new ArrayList<>();
    for (CompletableFuture<Generation> f : futures) {
      out.add(f.get());
    }
    return out;
  }

  static ObjectNode score(List<Example> examples, List<Generation> gens, double seconds) {
    Rouge rouge = new Rouge();
    Map<String, Integer> reasons = new HashMap<>();
    long generated = 0;
    long prompt = 0;
    int truncated = 0;
    int empty = 0;
    for (int i = 0; i < examples.size(); i++) {
      Generation g = gens.get(i);
      rouge.add(g.text(), examples.get(i).references());
      reasons.merge(g.finishReason().name(), 1, Integer::sum);
      generated += g.generatedTokens();
      prompt += g.promptTokens();
      truncated += g.truncated() ? 1 : 0;
      empty += g.text().isBlank() ? 1 : 0;
    }
    ObjectNode n = rougeNode(rouge);
    n.set("finish_reasons", JSON.valueToTree(reasons));
    n.put("mean_generated_tokens", (double) generated / examples.size())
        .put("mean_prompt_tokens", (double) prompt / examples.size())
        .put("truncated_inputs", truncated).put("empty_outputs", empty);
    if (seconds > 0) {
      n.put("seconds", Math.round(seconds * 10) / 10.0)
          .put("generated_tokens_per_s", Math.round(generated / seconds * 10) / 10.0);
    }
    return n;
  }

  static ObjectNode rougeNode(Rouge rouge) {
    Rouge.Scores m = rouge.mean();
    ObjectNode n = JSON.createObjectNode();
    n.put("n", rouge.n()).put("rouge1", r4(m.rouge1())).put("rouge2", r4(m.rouge2())).put("rougeL", r4(m.rougeL()));
    return n;
  }

  static double r4(double v) {
    return Math.round(v * 10000) / 10000.0;
  }

  static void write(Path file, List<Example> examples, List<Generation> gens) throws Exception {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < examples.size(); i++) {
        Example e = examples.get(i);
        Generation g = gens.get(i);
        ObjectNode n = JSON.createObjectNode();
        n.put("id", e.id()).put("prediction", g.text()).put("reference", e.references().get(0))
            .put("finish", g.finishReason().name()).put("prompt_tokens", g.promptTokens())
            .put("generated_tokens", g.generatedTokens());
        w.write(JSON.writeValueAsString(n));
        w.newLine();
      }
    }
  }

  /** Lead and most-frequent-reply baselines (see the class doc). */
  static void baselines(Path data, Map<String, List<Example>> sets, ObjectNode out) {
    Map<String, Path> trainFiles = Map.of("samsum", data.resolve("samsum/train.jsonl"),
        "dialogsum", data.resolve("dialogsum/dialogsum.train.jsonl"));
    for (String set : List.of("samsum", "dialogsum")) {
      double words = 0;
      int n = 0;
      for (SummaryExample e : DatasetFiles.readSummaries(trainFiles.get(set))) {
        words += e.references().get(0).split("\\s+").length;
        n++;
      }
      int meanWords = (int) Math.round(words / n);
      Rouge rouge = new Rouge();
      for (Example e : sets.get(set)) {
        rouge.add(lead(e.input(), meanWords), e.references());
      }
      ObjectNode b = rougeNode(rouge);
      b.put("baseline", "lead sentences cut to " + meanWords + " words (train reference mean)");
      out.set(set, b);
    }
    Map<String, Integer> counts = new HashMap<>();
    for (List<String> turns : DatasetFiles.readDialogues(data.resolve("dailydialog/dialogues_train.txt"))) {
      for (String t : turns.subList(1, turns.size())) {
        counts.merge(t, 1, Integer::sum);
      }
    }
    String best = counts.entrySet().stream()
        .max(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey())).get().getKey();
    Rouge rouge = new Rouge();
    for (Example e : sets.get("dailydialog")) {
      rouge.add(best, e.references());
    }
    ObjectNode b = rougeNode(rouge);
    b.put("baseline", "most frequent train reply: '" + best + "' (" + counts.get(best) + " times)");
    out.set("dailydialog", b);
  }

  static String lead(String text, int maxWords) {
    List<String> words = new ArrayList<>();
    for (String sentence : text.split("(?<=[.!?])\\s+|\\n")) {
      if (words.size() >= maxWords) {
        break;
      }
      for (String w : sentence.strip().split("\\s+")) {
        if (!w.isEmpty()) {
          words.add(w);
        }
      }
    }
    return String.join(" ", words.subList(0, Math.min(maxWords, words.size())));
  }

  /** The runtime's prompt ids equal the training ids (EncodeDataset) for every dev example given the same room. */
  static ObjectNode checkPrompts(Generator g, Path devJsonl, Map<String, List<Example>> sets) throws Exception {
    Map<String, JsonNode> byId = new HashMap<>();
    for (String line : Files.readAllLines(devJsonl)) {
      JsonNode n = JSON.readTree(line);
      byId.put(n.get("id").asText(), n);
    }
    int checked = 0;
    int equal = 0;
    List<String> diffs = new ArrayList<>();
    for (List<Example> set : sets.values()) {
      for (Example e : set) {
        JsonNode n = byId.get(e.id());
        if (n == null) {
          diffs.add("missing " + e.id());
          continue;
        }
        EncodedPrompt p = g.prompt(e.kind(), e.input(), n.get("target").size() + 1);
        long[] expected = new long[n.get("prompt").size()];
        for (int i = 0; i < expected.length; i++) {
          expected[i] = n.get("prompt").get(i).asLong();
        }
        checked++;
        if (Arrays.equals(p.ids(), expected)) {
          equal++;
        } else if (diffs.size() < 5) {
          diffs.add(e.id());
        }
      }
    }
    ObjectNode r = JSON.createObjectNode();
    r.put("checked", checked).put("equal", equal);
    r.set("first_differences", JSON.valueToTree(diffs));
    System.err.println("prompt check: " + r);
    return r;
  }
}
