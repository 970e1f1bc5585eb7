import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.catalog.AnalyzerSpec;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.eval.AnalyzerEvaluation;
import io.nlpstream.models.eval.DatasetFiles;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Dev figures from the project's Java runtime: opens a catalogue bundle exactly as the pipeline does
 * ({@link ModelCatalog#openAnalyzer}: sha256 checks, tokenizer, windows, casing, decoding) and scores
 * it with {@link AnalyzerEvaluation} on data files read by {@link DatasetFiles}.
 *
 * <p>usage: {@code java -cp <models classes + deps> RuntimeEval.java <out.json> <catalog-dir|-> <model-id>
 * <task>=<file>...} with task {@code sentiment}, {@code topic} or {@code ner}; {@code -} uses only the
 * bundles built into the classpath. Several {@code <catalog-dir> <model-id> <task>=<file>...} groups may
 * follow each other, separated by {@code --}. Writes one JSON array of the evaluation results (each
 * with {@code catalog}, {@code model} and {@code file} added).
 */
public final class RuntimeEval {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        List<Map<String, Object>> results = new ArrayList<>();
        OrtRuntime runtime = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 2));
        int i = 1;
        while (i < args.length) {
            String dir = args[i++];
            String id = args[i++];
            Optional<Path> extra = dir.equals("-") ? Optional.empty() : Optional.of(Path.of(dir));
            try (TextAnalyzer analyzer = ModelCatalog.open(extra).openAnalyzer(AnalyzerSpec.of(id), runtime, 2048)) {
                while (i < args.length && !args[i].equals("--")) {
                    String[] kv = args[i++].split("=", 2);
                    Path file = Path.of(kv[1]);
                    long t0 = System.nanoTime();
                    Map<String, Object> r = switch (kv[0]) {
                        case "sentiment" -> AnalyzerEvaluation.sentiment(analyzer, DatasetFiles.readClassification(file), null);
                        case "topic" -> AnalyzerEvaluation.topic(analyzer, DatasetFiles.readClassification(file), null);
                        case "ner" -> AnalyzerEvaluation.ner(analyzer, DatasetFiles.readTagged(file), false, null);
                        default -> throw new IllegalArgumentException("unknown task " + kv[0]);
                    };
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("catalog", dir);
                    row.put("model", id);
                    row.put("file", file.toString());
                    row.putAll(r);
                    results.add(row);
                    System.err.printf("%s %s %s: %s (%.0f s)%n", id, kv[0], file.getFileName(),
                            r.getOrDefault("f1", r.get("accuracy")), (System.nanoTime() - t0) / 1e9);
                }
            }
            if (i < args.length && args[i].equals("--")) {
                i++;
            }
        }
        Files.writeString(out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(results));
    }
}
