import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.tokenizer.Casing;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs fused multi-head graphs (export.py's float32 and int8 model.onnx) on ONNX Runtime Java over
 * real texts, with the inputs built by the runtime's own classes: {@link TextTokenizer} (the bundle's
 * tokenizer, [CLS] content [SEP], content cut at 254 tokens like window 0) and {@link Casing}. Writes
 * the inputs and every model's outputs so that check_export.py can compare them with the torch
 * model and with each other, and prints the time each model took over the same length-sorted
 * batches (token budget 2048, the best of {@code rounds} passes).
 *
 * <p>usage: {@code java -cp <models classes + deps> FusedCheck.java <tokenizer.json> <texts.txt> <out-dir>
 * <rounds> <model.onnx>...}. Output (little-endian): {@code len.i32} [N], {@code ids.i64} and {@code
 * cases.i64} [T] (items concatenated), per model k (0-based, in argument order) {@code
 * k.sentiment.f32} [N,3], {@code k.classes.f32} [N,4], {@code k.entities.f32} [T,9] and {@code
 * timing.txt} (model, seconds, texts/s).
 */
public final class FusedCheck {
    private static final int MAX_TOKENS = 256;
    private static final int BUDGET = 2048;

    public static void main(String[] args) throws Exception {
        Path tokenizerJson = Path.of(args[0]);
        List<String> texts = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isEmpty()).toList();
        Path out = Path.of(args[2]);
        int rounds = Integer.parseInt(args[3]);
        List<Path> models = Arrays.stream(args).skip(4).map(Path::of).toList();
        Files.createDirectories(out);

        int n = texts.size();
        long[][] ids = new long[n][];
        long[][] cases = new long[n][];
        try (TextTokenizer tokenizer = TextTokenizer.fromJson(tokenizerJson.toString(), Files.readAllBytes(tokenizerJson))) {
            for (int i = 0; i < n; i++) {
                String text = texts.get(i);
                Tokens tokens = tokenizer.encode(text);
                int[] casing = Casing.of(text, tokens);
                int content = Math.min(tokens.size(), MAX_TOKENS - 2);
                ids[i] = new long[content + 2];
                cases[i] = new long[content + 2];
                ids[i][0] = tokenizer.clsId();
                ids[i][content + 1] = tokenizer.sepId();
                for (int t = 0; t < content; t++) {
                    ids[i][t + 1] = tokens.ids()[t];
                    cases[i][t + 1] = casing[t];
                }
            }
        }
        int[] len = Arrays.stream(ids).mapToInt(a -> a.length).toArray();
        long[] offset = new long[n + 1];
        for (int i = 0; i < n; i++) {
            offset[i + 1] = offset[i] + len[i];
        }
        writeInts(out.resolve("len.i32"), len);
        writeLongs(out.resolve("ids.i64"), concat(ids, offset));
        writeLongs(out.resolve("cases.i64"), concat(cases, offset));

        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> len[i]));
        List<int[]> batches = new ArrayList<>();
        for (int start = 0; start < n; ) {
            int end = start + 1;
            while (end < n && (end - start + 1) * len[order[end]] <= BUDGET) {
                end++;
            }
            batches.add(Arrays.stream(order, start, end).mapToInt(Integer::intValue).toArray());
            start = end;
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<OrtSession> sessions = new ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            for (Path model : models) {
                sessions.add(env.createSession(model.toString(), options));
            }
        }
        int m = models.size();
        float[][] sentiment = new float[m][n * 3];
        float[][] classes = new float[m][n * 4];
        float[][] entities = new float[m][Math.toIntExact(offset[n] * 9)];
        double[] best = new double[m];
        Arrays.fill(best, Double.MAX_VALUE);
        // rounds interleave the models, so that load from other processes hits them alike
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < m; k++) {
                OrtSession session = sessions.get(k);
                boolean caseIds = session.getInputNames().contains("case_ids");
                long t0 = System.nanoTime();
                for (int[] batch : batches) {
                    run(env, session, caseIds, batch, ids, cases, len, offset, sentiment[k], classes[k], entities[k]);
                }
                best[k] = Math.min(best[k], (System.nanoTime() - t0) / 1e9);
            }
        }
        StringBuilder timing = new StringBuilder();
        for (int k = 0; k < m; k++) {
            writeFloats(out.resolve(k + ".sentiment.f32"), sentiment[k]);
            writeFloats(out.resolve(k + ".classes.f32"), classes[k]);
            writeFloats(out.resolve(k + ".entities.f32"), entities[k]);
            timing.append(String.format(Locale.ROOT, "%s %.3f %.1f%n", models.get(k), best[k], n / best[k]));
            System.err.printf(Locale.ROOT, "%s: %d texts, %d batches, best of %d rounds %.2f s (%.1f texts/s)%n",
                    models.get(k), n, batches.size(), rounds, best[k], n / best[k]);
            sessions.get(k).close();
        }
        Files.writeString(out.resolve("timing.txt"), timing);
    }

    private static void run(OrtEnvironment env, OrtSession session, boolean caseIds, int[] batch, long[][] ids,
                            long[][] cases, int[] len, long[] offset, float[] sentiment, float[] classes,
                            float[] entities) throws OrtException {
        int b = batch.length;
        int s = 0;
        for (int i : batch) {
            s = Math.max(s, len[i]);
        }
        long[] x = new long[b * s];
        long[] m = new long[b * s];
        long[] c = new long[b * s];
        for (int r = 0; r < b; r++) {
            int i = batch[r];
            System.arraycopy(ids[i], 0, x, r * s, len[i]);
            System.arraycopy(cases[i], 0, c, r * s, len[i]);
            Arrays.fill(m, r * s, r * s + len[i], 1L);
        }
        long[] shape = {b, s};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(x), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(m), shape));
            inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * s]), shape));
            if (caseIds) {
                inputs.put("case_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(c), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                float[] sent = floats(result, "sentiment_logits");
                float[] cls = floats(result, "class_logits");
                float[] ent = floats(result, "entity_logits");
                for (int r = 0; r < b; r++) {
                    int i = batch[r];
                    System.arraycopy(sent, r * 3, sentiment, i * 3, 3);
                    System.arraycopy(cls, r * 4, classes, i * 4, 4);
                    System.arraycopy(ent, r * s * 9, entities, Math.toIntExact(offset[i] * 9), len[i] * 9);
                }
            }
        } finally {
            for (OnnxTensor t : inputs.values()) {
                t.close();
            }
        }
    }

    private static float[] floats(OrtSession.Result result, String name) {
        OnnxTensor t = (OnnxTensor) result.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
        FloatBuffer fb = t.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    private static long[] concat(long[][] rows, long[] offset) {
        long[] all = new long[Math.toIntExact(offset[rows.length])];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, all, Math.toIntExact(offset[i]), rows[i].length);
        }
        return all;
    }

    private static void writeInts(Path path, int[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asIntBuffer().put(values);
        Files.write(path, bb.array());
    }

    private static void writeLongs(Path path, long[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(values);
        Files.write(path, bb.array());
    }

    private static void writeFloats(Path path, float[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(values);
        Files.write(path, bb.array());
    }
}
