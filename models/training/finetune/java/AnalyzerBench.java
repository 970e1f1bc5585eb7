import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.catalog.AnalyzerSpec;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Throughput of whole analyzers (tokenize, network, heads, decoding: what the BERT stage calls), for
 * several catalogue bundles in one process with their rounds interleaved, so that load from other
 * processes on a shared machine hits every bundle alike (the analyzer part of {@code EncoderBench},
 * which measures one bundle per run). Prints texts/s per bundle (median, min, max over the rounds)
 * and each bundle's rate relative to the first. Asserts nothing.
 *
 * <p>usage: {@code java -cp <models classes + deps> AnalyzerBench.java <texts.txt> <texts> <rounds>
 * <max-batch-tokens> <threads> (<catalog-dir>|- <model-id>)...}
 */
public final class AnalyzerBench {
    public static void main(String[] args) throws Exception {
        List<String> texts = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isBlank()).limit(Integer.parseInt(args[1])).toList();
        int rounds = Integer.parseInt(args[2]);
        int budget = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, threads));
        List<String> names = new ArrayList<>();
        List<TextAnalyzer> analyzers = new ArrayList<>();
        try {
            for (int i = 5; i + 1 < args.length; i += 2) {
                Optional<Path> dir = args[i].equals("-") ? Optional.empty() : Optional.of(Path.of(args[i]));
                TextAnalyzer analyzer = ModelCatalog.open(dir).openAnalyzer(AnalyzerSpec.of(args[i + 1]), runtime, budget);
                analyzers.add(analyzer);
                names.add(args[i + 1]);
                analyzer.analyze(texts.subList(0, Math.min(50, texts.size()))); // warm-up: arenas, plans
            }
            double[][] rates = new double[analyzers.size()][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < analyzers.size(); k++) {
                    long t0 = System.nanoTime();
                    analyzers.get(k).analyze(texts);
                    rates[k][r] = texts.size() / ((System.nanoTime() - t0) / 1e9);
                }
            }
            System.out.printf(Locale.ROOT, "ONNX Runtime %s, %d intra-op threads, %d texts from %s, max batch tokens %d,"
                    + " %d interleaved rounds%n", runtime.version(), runtime.intraOpThreads(), texts.size(), args[0],
                    budget, rounds);
            double base = median(rates[0]);
            for (int k = 0; k < analyzers.size(); k++) {
                double[] r = rates[k].clone();
                Arrays.sort(r);
                System.out.printf(Locale.ROOT, "%-24s median %7.1f texts/s  min %7.1f  max %7.1f  (%.2fx %s)%n",
                        names.get(k), median(rates[k]), r[0], r[r.length - 1], median(rates[k]) / base, names.get(0));
            }
        } finally {
            for (TextAnalyzer a : analyzers) {
                a.close();
            }
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
