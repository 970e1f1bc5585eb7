import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Feature extraction for training the minilm-heads bundle, done exactly as the Java runtime does
 * it: DJL's HuggingFace tokenizer (special tokens added, truncation to {@code --max-tokens}, no
 * padding from the tokenizer) and the frozen all-MiniLM-L6-v2 encoder on ONNX Runtime Java.
 *
 * <p>Run as a single-file source program: {@code java -cp <deps> FeatureDump.java <mode> ...}.
 *
 * <p>Input: UTF-8 text, one item per line ({@code \n}-separated; items contain no line breaks).
 * All binary output is little-endian; rows are in input order.
 * <ul>
 *   <li>{@code pooled}: {@code <out>.f32} float32 [N,384], the attention-masked mean of
 *       {@code last_hidden_state} (what the sentence heads receive inside heads.onnx);
 *       {@code <out>.len} int32 [N] token count after truncation (special tokens included);
 *       {@code <out>.trunc} uint8 [N] 1 where the text exceeded the token limit.</li>
 *   <li>{@code tokens}: {@code <out>.f16} float16 [T,384], every token's {@code last_hidden_state}
 *       row, items concatenated; {@code <out>.len} and {@code <out>.trunc} as above;
 *       {@code <out>.spans} int32 [T,2] character span of each token in the text, in Unicode code
 *       points as the tokenizer reports them, (-1,-1) for special tokens.</li>
 *   <li>{@code fp16-check <out>}: writes random floats ({@code <out>.f32}) and this program's fp16
 *       conversion of them ({@code <out>.f16}) so that the conversion can be checked against numpy.</li>
 * </ul>
 * Batches are formed from length-sorted items (stable sort, so the run is deterministic) and padded
 * on the right with attention mask 0; padding does not change the fp32 encoder's outputs for the
 * real tokens beyond float rounding.
 */
public final class FeatureDump {
    private static final int HIDDEN = 384;
    private static final int MAX_BATCH_ITEMS = 256;

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("fp16-check")) {
            fp16Check(Path.of(args[1]));
            return;
        }
        if (args.length < 5) {
            System.err.println("usage: FeatureDump pooled|tokens <encoder.onnx> <tokenizer.json> <in.txt> <out-prefix>"
                    + " [max-tokens=256] [max-batch-tokens=8192] [threads=2]");
            System.exit(2);
        }
        String mode = args[0];
        if (!mode.equals("pooled") && !mode.equals("tokens")) {
            throw new IllegalArgumentException("unknown mode " + mode);
        }
        Path encoder = Path.of(args[1]);
        Path tokenizerJson = Path.of(args[2]);
        Path in = Path.of(args[3]);
        String out = args[4];
        int maxTokens = args.length > 5 ? Integer.parseInt(args[5]) : 256;
        int maxBatchTokens = args.length > 6 ? Integer.parseInt(args[6]) : 8192;
        int threads = args.length > 7 ? Integer.parseInt(args[7]) : 2;

        String content = Files.readString(in, StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(content.split("\n", -1)));
        if (!texts.isEmpty() && texts.get(texts.size() - 1).isEmpty()) {
            texts.remove(texts.size() - 1); // trailing newline of the file
        }
        int n = texts.size();
        long t0 = System.nanoTime();

        Encoding[] enc = new Encoding[n];
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(true)
                .optTruncation(true)
                .optMaxLength(maxTokens)
                .optPadding(false)
                .build()) {
            for (int i = 0; i < n; i++) {
                enc[i] = tokenizer.encode(texts.get(i));
            }
        }
        int[] len = new int[n];
        long[] offset = new long[n + 1];
        byte[] trunc = new byte[n];
        for (int i = 0; i < n; i++) {
            len[i] = enc[i].getIds().length;
            trunc[i] = (byte) (enc[i].exceedMaxLength() ? 1 : 0);
            offset[i + 1] = offset[i] + len[i];
        }
        long totalTokens = offset[n];

        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> len[i])); // stable: ties keep input order

        boolean tokensMode = mode.equals("tokens");
        float[] pooled = tokensMode ? null : new float[n * HIDDEN];
        short[] perToken = tokensMode ? new short[Math.toIntExact(totalTokens * HIDDEN)] : null;

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            // the cores are shared with other processes: spinning intra-op threads steal them
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(encoder.toString(), options)) {
                int start = 0;
                int batches = 0;
                while (start < n) {
                    // sorted ascending, so the last item of a batch is its longest
                    int end = start + 1;
                    while (end < n && end - start < MAX_BATCH_ITEMS && (end - start + 1) * len[order[end]] <= maxBatchTokens) {
                        end++;
                    }
                    int b = end - start;
                    int s = len[order[end - 1]];
                    long[] ids = new long[b * s];
                    long[] mask = new long[b * s];
                    long[] types = new long[b * s];
                    for (int r = 0; r < b; r++) {
                        Encoding e = enc[order[start + r]];
                        long[] rowIds = e.getIds();
                        long[] rowTypes = e.getTypeIds();
                        for (int c = 0; c < rowIds.length; c++) {
                            ids[r * s + c] = rowIds[c];
                            types[r * s + c] = rowTypes[c];
                            mask[r * s + c] = 1L;
                        }
                    }
                    float[] hidden = run(env, session, ids, mask, types, b, s);
                    for (int r = 0; r < b; r++) {
                        int item = order[start + r];
                        int l = len[item];
                        if (tokensMode) {
                            int dst = Math.toIntExact(offset[item] * HIDDEN);
                            int src = r * s * HIDDEN;
                            for (int k = 0; k < l * HIDDEN; k++) {
                                perToken[dst + k] = toHalf(hidden[src + k]);
                            }
                        } else {
                            for (int h = 0; h < HIDDEN; h++) {
                                float sum = 0f;
                                for (int c = 0; c < l; c++) {
                                    sum += hidden[(r * s + c) * HIDDEN + h];
                                }
                                pooled[item * HIDDEN + h] = sum / l;
                            }
                        }
                    }
                    start = end;
                    batches++;
                    if (batches % 200 == 0) {
                        System.err.printf("  %s: %d/%d items%n", in.getFileName(), start, n);
                    }
                }
            }
        }

        writeInts(Path.of(out + ".len"), len);
        Files.write(Path.of(out + ".trunc"), trunc);
        if (tokensMode) {
            writeHalves(Path.of(out + ".f16"), perToken);
            int[] spans = new int[Math.toIntExact(totalTokens * 2)];
            for (int i = 0; i < n; i++) {
                CharSpan[] cs = enc[i].getCharTokenSpans();
                for (int t = 0; t < len[i]; t++) {
                    int at = Math.toIntExact((offset[i] + t) * 2);
                    spans[at] = cs[t] == null ? -1 : cs[t].getStart();
                    spans[at + 1] = cs[t] == null ? -1 : cs[t].getEnd();
                }
            }
            writeInts(Path.of(out + ".spans"), spans);
        } else {
            writeFloats(Path.of(out + ".f32"), pooled);
        }
        int truncated = 0;
        for (byte t : trunc) {
            truncated += t;
        }
        System.err.printf("%s: %d items, %d tokens, %d truncated, %.1f s%n",
                in.getFileName(), n, totalTokens, truncated, (System.nanoTime() - t0) / 1e9);
    }

    private static float[] run(OrtEnvironment env, OrtSession session, long[] ids, long[] mask, long[] types,
                               int b, int s) throws OrtException {
        long[] shape = {b, s};
        try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskT = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typesT = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
             OrtSession.Result result = session.run(Map.of(
                     "input_ids", idsT, "attention_mask", maskT, "token_type_ids", typesT))) {
            OnnxTensor hidden = (OnnxTensor) result.get("last_hidden_state")
                    .orElseThrow(() -> new IllegalStateException("encoder has no last_hidden_state output"));
            long[] hs = hidden.getInfo().getShape();
            if (hs.length != 3 || hs[0] != b || hs[1] != s || hs[2] != HIDDEN) {
                throw new IllegalStateException("unexpected last_hidden_state shape " + Arrays.toString(hs));
            }
            FloatBuffer fb = hidden.getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    /** float32 to IEEE binary16, round to nearest even (F. Giesen's float_to_half_fast3_rtne). */
    static short toHalf(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = f & 0x80000000;
        f ^= sign;
        int o;
        if (f >= (127 + 16) << 23) {
            o = f > (255 << 23) ? 0x7e00 : 0x7c00; // NaN stays NaN, overflow becomes infinity
        } else if (f < (113 << 23)) {
            // subnormal or zero: let float addition (round to nearest even) align the mantissa
            int magicBits = ((127 - 15) + (23 - 10) + 1) << 23;
            float sum = Float.intBitsToFloat(f) + Float.intBitsToFloat(magicBits);
            o = Float.floatToRawIntBits(sum) - magicBits;
        } else {
            int mantOdd = (f >>> 13) & 1;
            f += ((15 - 127) << 23) + 0xfff;
            f += mantOdd;
            o = f >>> 13;
        }
        return (short) (o | (sign >>> 16));
    }

    private static void fp16Check(Path out) throws IOException {
        Random random = new Random(20240601L);
        int n = 1 << 20;
        float[] values = new float[n];
        short[] halves = new short[n];
        for (int i = 0; i < n; i++) {
            float v;
            switch (i % 4) {
                case 0 -> v = (float) random.nextGaussian() * 3f;
                case 1 -> v = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(60) - 30));
                case 2 -> v = Float.intBitsToFloat(random.nextInt()); // any bit pattern, NaN included
                default -> v = (float) random.nextGaussian() * 1e-5f; // fp16 subnormal range
            }
            values[i] = v;
            halves[i] = toHalf(v);
        }
        writeFloats(Path.of(out + ".f32"), values);
        writeHalves(Path.of(out + ".f16"), halves);
    }

    private static void writeFloats(Path path, float[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(values);
        Files.write(path, bb.array());
    }

    private static void writeInts(Path path, int[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asIntBuffer().put(values);
        Files.write(path, bb.array());
    }

    private static void writeHalves(Path path, short[] values) throws IOException {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            ByteBuffer bb = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (short v : values) {
                if (!bb.hasRemaining()) {
                    os.write(bb.array(), 0, bb.position());
                    bb.clear();
                }
                bb.putShort(v);
            }
            os.write(bb.array(), 0, bb.position());
        }
    }
}
