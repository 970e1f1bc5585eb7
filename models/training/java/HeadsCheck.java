import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs heads.onnx on ONNX Runtime Java over the check batches that train.py wrote, so that
 * verify.py can compare the runtime's outputs with the torch module's.
 *
 * <p>usage: {@code java -cp <deps> HeadsCheck.java <heads.onnx> <verify-dir>}. The directory holds
 * {@code batches.txt} (lines {@code name B S}) and per batch {@code name.lhs.f32} (float32 [B,S,384])
 * and {@code name.mask.i64} (int64 [B,S]), little-endian. Writes {@code name.ort.<output>.f32} per
 * output and {@code io.txt}, the graph's declared inputs and outputs.
 */
public final class HeadsCheck {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path dir = Path.of(args[1]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(model.toString(), options)) {
                StringBuilder io = new StringBuilder();
                for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                    io.append("input ").append(e.getKey()).append(' ').append(e.getValue().getInfo()).append('\n');
                }
                for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                    io.append("output ").append(e.getKey()).append(' ').append(e.getValue().getInfo()).append('\n');
                }
                Files.writeString(dir.resolve("io.txt"), io);
                System.err.print(io);
                List<String> batches = Files.readAllLines(dir.resolve("batches.txt"));
                for (String line : batches) {
                    if (line.isBlank()) {
                        continue;
                    }
                    String[] f = line.trim().split(" ");
                    String name = f[0];
                    long b = Long.parseLong(f[1]);
                    long s = Long.parseLong(f[2]);
                    ByteBuffer lhs = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name + ".lhs.f32")))
                            .order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer mask = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name + ".mask.i64")))
                            .order(ByteOrder.LITTLE_ENDIAN);
                    try (OnnxTensor lhsT = OnnxTensor.createTensor(env, lhs.asFloatBuffer(), new long[] {b, s, 384});
                         OnnxTensor maskT = OnnxTensor.createTensor(env, mask.asLongBuffer(), new long[] {b, s});
                         OrtSession.Result result = session.run(Map.of("last_hidden_state", lhsT, "attention_mask", maskT))) {
                        for (String out : List.of("sentiment_logits", "class_logits", "entity_logits")) {
                            OnnxTensor t = (OnnxTensor) result.get(out).orElseThrow();
                            FloatBuffer fb = t.getFloatBuffer();
                            ByteBuffer bytes = ByteBuffer.allocate(fb.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
                            bytes.asFloatBuffer().put(fb);
                            Files.write(dir.resolve(name + ".ort." + out + ".f32"), bytes.array());
                            System.err.println(name + " " + out + " " + ((TensorInfo) t.getInfo()).getShape().length
                                    + "-d " + java.util.Arrays.toString(((TensorInfo) t.getInfo()).getShape()));
                        }
                    }
                }
                timing(env, session);
            }
        }
    }

    /** Prints the cost of one heads call at typical shapes (figures only; load on the machine varies). */
    private static void timing(OrtEnvironment env, OrtSession session) throws Exception {
        java.util.Random random = new java.util.Random(1);
        for (int[] shape : new int[][] {{32, 64}, {8, 256}}) {
            int b = shape[0];
            int s = shape[1];
            float[] lhs = new float[b * s * 384];
            for (int i = 0; i < lhs.length; i++) {
                lhs[i] = (float) random.nextGaussian();
            }
            long[] mask = new long[b * s];
            java.util.Arrays.fill(mask, 1L);
            try (OnnxTensor lhsT = OnnxTensor.createTensor(env, FloatBuffer.wrap(lhs), new long[] {b, s, 384});
                 OnnxTensor maskT = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), new long[] {b, s})) {
                int runs = 20;
                long best = Long.MAX_VALUE;
                for (int i = 0; i < runs + 3; i++) {
                    long t0 = System.nanoTime();
                    try (OrtSession.Result r = session.run(Map.of("last_hidden_state", lhsT, "attention_mask", maskT))) {
                        best = Math.min(best, System.nanoTime() - t0);
                    }
                }
                System.err.printf("heads.onnx [B=%d, S=%d]: best of %d runs %.2f ms%n", b, s, runs, best / 1e6);
            }
        }
    }
}
