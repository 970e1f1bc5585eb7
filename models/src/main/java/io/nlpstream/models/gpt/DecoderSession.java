package io.nlpstream.models.gpt;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.models.runtime.ModelLoadException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One ONNX Runtime session over a Hugging Face "decoder with past" graph, checked against the
 * model's {@code config.json} when it is opened.
 *
 * <p>Graph contract: inputs {@code input_ids} and {@code attention_mask} (int64 [batch, seq] and
 * [batch, past + seq]), optionally {@code position_ids} (int64 [batch, seq]) and
 * {@code use_cache_branch} (bool [1], Optimum's merged decoders; fed {@code true}), and
 * {@code past_key_values.N.key}/{@code .value} (float32 [batch, kvHeads, past, headDim]) for every
 * layer N; outputs {@code logits} (float32 [batch, seq, vocab]) and {@code present.N.key}/{@code .value}
 * (float32 [batch, kvHeads, past + seq, headDim]). An empty past does the prefill.
 *
 * <p>All outputs are written into caller-owned direct buffers (ONNX Runtime's pinned outputs), so a
 * step copies nothing out of native memory and the KV cache can be fed back as the next step's past
 * without a copy.
 *
 * <p>Not thread-safe: the decoding loop is its only caller. Ownership: the {@link Generator} that
 * opened it closes it; the {@link OrtEnvironment} and session options belong to the caller of
 * {@link Generator#open}. (When the runtime package's shared environment/session wrapper is merged,
 * session creation moves there; the graph checks stay here.)
 */
final class DecoderSession implements AutoCloseable {

  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String POSITION_IDS = "position_ids";
  static final String USE_CACHE_BRANCH = "use_cache_branch";
  static final String LOGITS = "logits";

  private final OrtEnvironment env;
  private final OrtSession session;
  private final String modelId;
  private final String file;
  private final DecoderConfig config;
  private final boolean hasPositionIds;
  private final boolean hasUseCacheBranch;
  private final String[] pastNames;
  private final String[] presentNames;

  private DecoderSession(OrtEnvironment env, OrtSession session, String modelId, String file, DecoderConfig config,
                         boolean hasPositionIds, boolean hasUseCacheBranch) {
    this.env = env;
    this.session = session;
    this.modelId = modelId;
    this.file = file;
    this.config = config;
    this.hasPositionIds = hasPositionIds;
    this.hasUseCacheBranch = hasUseCacheBranch;
    int layers = config.layers();
    this.pastNames = new String[2 * layers];
    this.presentNames = new String[2 * layers];
    for (int i = 0; i < layers; i++) {
      pastNames[2 * i] = pastKey(i);
      pastNames[2 * i + 1] = pastValue(i);
      presentNames[2 * i] = "present." + i + ".key";
      presentNames[2 * i + 1] = "present." + i + ".value";
    }
  }

  private static String pastKey(int layer) {
    return "past_key_values." + layer + ".key";
  }

  private static String pastValue(int layer) {
    return "past_key_values." + layer + ".value";
  }

  /**
   * Opens {@code onnxFile} and checks its inputs and outputs against {@code config}.
   *
   * @throws ModelLoadException naming the file on any mismatch or load failure
   */
  static DecoderSession open(OrtEnvironment env, OrtSession.SessionOptions options, Path onnxFile,
                             DecoderConfig config, String configFile, String modelId) {
    String file = onnxFile.toString();
    OrtSession session;
    try {
      session = env.createSession(file, options);
    } catch (OrtException e) {
      throw new ModelLoadException(file, "ONNX Runtime cannot load it: " + e.getMessage(), e);
    }
    try {
      boolean[] optional = check(session, file, config, configFile);
      return new DecoderSession(env, session, modelId, file, config, optional[0], optional[1]);
    } catch (RuntimeException e) {
      closeQuietly(session, e);
      throw e;
    }
  }

  private static void closeQuietly(OrtSession session, RuntimeException pending) {
    try {
      session.close();
    } catch (OrtException closeFailure) {
      pending.addSuppressed(closeFailure);
    }
  }

  /** Returns {hasPositionIds, hasUseCacheBranch}. */
  private static boolean[] check(OrtSession session, String file, DecoderConfig config, String configFile) {
    Map<String, NodeInfo> inputs;
    Map<String, NodeInfo> outputs;
    try {
      inputs = session.getInputInfo();
      outputs = session.getOutputInfo();
    } catch (OrtException e) {
      throw new ModelLoadException(file, "cannot read the graph's inputs/outputs: " + e.getMessage(), e);
    }
    requireTensor(file, inputs, INPUT_IDS, OnnxJavaType.INT64, 2, "input");
    requireTensor(file, inputs, ATTENTION_MASK, OnnxJavaType.INT64, 2, "input");
    boolean positions = inputs.containsKey(POSITION_IDS);
    if (positions) {
      requireTensor(file, inputs, POSITION_IDS, OnnxJavaType.INT64, 2, "input");
    }
    boolean cacheBranch = inputs.containsKey(USE_CACHE_BRANCH);

    int graphLayers = 0;
    while (inputs.containsKey(pastKey(graphLayers)) || inputs.containsKey(pastValue(graphLayers))) {
      graphLayers++;
    }
    if (graphLayers == 0) {
      throw new ModelLoadException(file, "no past_key_values.0.key input: not a decoder-with-past export"
          + " (inputs: " + new TreeSet<>(inputs.keySet()) + ")");
    }
    if (graphLayers != config.layers()) {
      throw new ModelLoadException(file, "the graph has past_key_values for " + graphLayers + " layers but "
          + configFile + " says " + config.layers() + " layers");
    }
    Set<String> expected = new TreeSet<>(List.of(INPUT_IDS, ATTENTION_MASK, POSITION_IDS, USE_CACHE_BRANCH));
    for (int i = 0; i < config.layers(); i++) {
      expected.add(pastKey(i));
      expected.add(pastValue(i));
      checkKv(file, configFile, config, inputs, pastKey(i), "input");
      checkKv(file, configFile, config, inputs, pastValue(i), "input");
      checkKv(file, configFile, config, outputs, "present." + i + ".key", "output");
      checkKv(file, configFile, config, outputs, "present." + i + ".value", "output");
    }
    List<String> unexpected = new ArrayList<>();
    for (String name : inputs.keySet()) {
      if (!expected.contains(name)) {
        unexpected.add(name);
      }
    }
    if (!unexpected.isEmpty()) {
      throw new ModelLoadException(file, "unexpected graph inputs " + unexpected + " (a decoder with past takes "
          + "input_ids, attention_mask, optional position_ids and past_key_values.N.key/value)");
    }
    long[] logits = requireTensor(file, outputs, LOGITS, OnnxJavaType.FLOAT, 3, "output");
    if (logits[2] > 0 && logits[2] != config.vocabSize()) {
      throw new ModelLoadException(file, "logits have " + logits[2] + " classes but " + configFile
          + " says vocab_size " + config.vocabSize());
    }
    return new boolean[] {positions, cacheBranch};
  }

  private static void checkKv(String file, String configFile, DecoderConfig config, Map<String, NodeInfo> nodes,
                              String name, String role) {
    long[] shape = requireTensor(file, nodes, name, OnnxJavaType.FLOAT, 4, role);
    if (shape[1] > 0 && shape[1] != config.kvHeads()) {
      throw new ModelLoadException(file, role + " " + name + " has " + shape[1] + " key/value heads but "
          + configFile + " implies " + config.kvHeads());
    }
    if (shape[3] > 0 && shape[3] != config.headDim()) {
      throw new ModelLoadException(file, role + " " + name + " has head size " + shape[3] + " but "
          + configFile + " implies " + config.headDim());
    }
  }

  private static long[] requireTensor(String file, Map<String, NodeInfo> nodes, String name, OnnxJavaType type,
                                      int rank, String role) {
    NodeInfo node = nodes.get(name);
    if (node == null) {
      throw new ModelLoadException(file, "missing graph " + role + " " + name + " (" + role + "s: "
          + new TreeSet<>(nodes.keySet()) + ")");
    }
    ValueInfo info = node.getInfo();
    if (!(info instanceof TensorInfo tensor) || tensor.type != type || tensor.getShape().length != rank) {
      throw new ModelLoadException(file, "graph " + role + " " + name + " is " + info + ", expected a rank-"
          + rank + " " + type + " tensor");
    }
    return tensor.getShape();
  }

  boolean hasPositionIds() {
    return hasPositionIds;
  }

  DecoderConfig config() {
    return config;
  }

  String file() {
    return file;
  }

  /**
   * Runs the graph on {@code batch} rows of {@code seq} new tokens over a past of {@code pastLength}.
   *
   * @param inputIds      [batch * seq] row-major
   * @param attentionMask [batch * (pastLength + seq)]
   * @param positionIds   [batch * seq]; used only when the graph takes {@code position_ids}
   * @param past          2 x layers buffers (key, value per layer), each exactly
   *                      batch * kvHeads * pastLength * headDim floats, direct, native order
   * @param present       same for pastLength + seq, written by the run; {@code null} to skip the
   *                      cache outputs (no-cache decoding)
   * @param logits        batch * seq * vocab floats, written by the run
   * @throws InferenceException naming the model and file when ONNX Runtime fails
   */
  void forward(int batch, int seq, int pastLength, long[] inputIds, long[] attentionMask, long[] positionIds,
               FloatBuffer[] past, FloatBuffer[] present, FloatBuffer logits) {
    int kv = config.kvHeads();
    int hd = config.headDim();
    List<OnnxTensor> owned = new ArrayList<>(4 * pastNames.length + 4);
    try {
      Map<String, OnnxTensor> in = new LinkedHashMap<>();
      in.put(INPUT_IDS, own(owned, OnnxTensor.createTensor(env, LongBuffer.wrap(inputIds), new long[] {batch, seq})));
      in.put(ATTENTION_MASK, own(owned, OnnxTensor.createTensor(env, LongBuffer.wrap(attentionMask),
          new long[] {batch, pastLength + seq})));
      if (hasPositionIds) {
        in.put(POSITION_IDS, own(owned, OnnxTensor.createTensor(env, LongBuffer.wrap(positionIds),
            new long[] {batch, seq})));
      }
      if (hasUseCacheBranch) {
        in.put(USE_CACHE_BRANCH, own(owned, OnnxTensor.createTensor(env, new boolean[] {true})));
      }
      long[] pastShape = {batch, kv, pastLength, hd};
      for (int i = 0; i < pastNames.length; i++) {
        in.put(pastNames[i], own(owned, OnnxTensor.createTensor(env, past[i], pastShape)));
      }
      Map<String, OnnxTensor> out = new LinkedHashMap<>();
      out.put(LOGITS, own(owned, OnnxTensor.createTensor(env, logits, new long[] {batch, seq, config.vocabSize()})));
      if (present != null) {
        long[] presentShape = {batch, kv, pastLength + seq, hd};
        for (int i = 0; i < presentNames.length; i++) {
          out.put(presentNames[i], own(owned, OnnxTensor.createTensor(env, present[i], presentShape)));
        }
      }
      // Pinned outputs are written in place; the result holds nothing else that needs reading.
      session.run(in, out).close();
    } catch (OrtException e) {
      throw new InferenceException(modelId, file, "decoder run failed (batch " + batch + ", seq " + seq
          + ", past " + pastLength + "): " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : owned) {
        t.close();
      }
    }
  }

  private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
    owned.add(t);
    return t;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new InferenceException(modelId, file, "closing the session failed: " + e.getMessage(), e);
    }
  }
}
