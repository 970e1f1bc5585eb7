package io.nlpstream.models.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One ONNX model loaded into ONNX Runtime: one session per model file.
 *
 * <p>Load validates the graph's interface: its inputs must be exactly the expected names (the
 * runtime feeds every input and nothing else) and its outputs must include the expected ones, else
 * a {@link ModelLoadException} names the file and the missing or unexpected names. Native failures
 * at inference time are wrapped into {@link InferenceException} with the model id and file.
 *
 * <p>Thread safety: {@link #run} and the tensor factories may be called from several threads (ONNX
 * Runtime sessions are thread-safe for concurrent runs); whether that is wise is the caller's
 * decision, as each run uses the whole intra-op pool. {@link #close()} must not race with a run:
 * the owner closes the session after its last run has returned.
 *
 * <p>Ownership: whoever opens a session closes it. Tensors from the factories and the {@link
 * OrtSession.Result} of {@link #run} belong to the caller, who closes them.
 */
public final class ModelSession implements AutoCloseable {

  private final String modelId;
  private final String file;
  private final OrtRuntime runtime;
  private final OrtSession session;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ModelSession(String modelId, String file, OrtRuntime runtime, OrtSession session) {
    this.modelId = modelId;
    this.file = file;
    this.runtime = runtime;
    this.session = session;
  }

  /**
   * Creates a session from the bytes of an ONNX model and validates its interface: the graph's
   * inputs must be exactly {@code expectedInputs}.
   *
   * @param modelId         model id for messages (e.g. {@code all-minilm-l6-v2})
   * @param file            where the bytes came from, for messages (e.g. {@code classpath:x.onnx})
   * @param model           the serialized ONNX model; not retained
   * @param expectedInputs  the graph's input names, exactly
   * @param requiredOutputs names that must be among the graph's outputs
   * @throws ModelLoadException if the bytes are not a loadable model or the interface differs
   */
  public static ModelSession open(OrtRuntime runtime, String modelId, String file, byte[] model,
                                  Set<String> expectedInputs, Set<String> requiredOutputs) {
    return open(runtime, modelId, file, model, expectedInputs, Set.of(), requiredOutputs);
  }

  /**
   * Creates a session from the bytes of an ONNX model and validates its interface: the graph's
   * inputs must include every name of {@code requiredInputs} and may include names of {@code
   * optionalInputs} (the caller feeds what {@link #inputNames()} declares), nothing else.
   *
   * @param modelId         model id for messages (e.g. {@code all-minilm-l6-v2})
   * @param file            where the bytes came from, for messages (e.g. {@code classpath:x.onnx})
   * @param model           the serialized ONNX model; not retained
   * @param requiredInputs  input names the graph must declare
   * @param optionalInputs  input names the graph may declare
   * @param requiredOutputs names that must be among the graph's outputs
   * @throws ModelLoadException if the bytes are not a loadable model or the interface differs
   */
  public static ModelSession open(OrtRuntime runtime, String modelId, String file, byte[] model,
                                  Set<String> requiredInputs, Set<String> optionalInputs,
                                  Set<String> requiredOutputs) {
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(model, "model");
    OrtSession session;
    try (OrtSession.SessionOptions options = runtime.newSessionOptions(file)) {
      session = runtime.environment().createSession(model, options);
    } catch (OrtException e) {
      throw new ModelLoadException(file, "ONNX Runtime cannot load model " + modelId + " (not an ONNX model, or"
          + " one this ONNX Runtime " + runtime.version() + " cannot run): " + e.getMessage(), e);
    }
    ModelSession loaded = new ModelSession(modelId, file, runtime, session);
    try {
      loaded.validate(requiredInputs, optionalInputs, requiredOutputs);
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
    return loaded;
  }

  private void validate(Set<String> requiredInputs, Set<String> optionalInputs, Set<String> requiredOutputs) {
    Set<String> inputs = session.getInputNames();
    Set<String> outputs = session.getOutputNames();
    Set<String> missingInputs = new TreeSet<>(requiredInputs);
    missingInputs.removeAll(inputs);
    Set<String> extraInputs = new TreeSet<>(inputs);
    extraInputs.removeAll(requiredInputs);
    extraInputs.removeAll(optionalInputs);
    Set<String> missingOutputs = new TreeSet<>(requiredOutputs);
    missingOutputs.removeAll(outputs);
    if (missingInputs.isEmpty() && extraInputs.isEmpty() && missingOutputs.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder("model ").append(modelId).append(" has the wrong interface:");
    if (!missingInputs.isEmpty()) {
      msg.append(" missing inputs ").append(missingInputs).append(';');
    }
    if (!extraInputs.isEmpty()) {
      msg.append(" unexpected inputs ").append(extraInputs).append(';');
    }
    if (!missingOutputs.isEmpty()) {
      msg.append(" missing outputs ").append(missingOutputs).append(';');
    }
    msg.append(" expected inputs ").append(new TreeSet<>(requiredInputs));
    if (!optionalInputs.isEmpty()) {
      msg.append(" (optional ").append(new TreeSet<>(optionalInputs)).append(')');
    }
    msg.append(" and outputs including ").append(new TreeSet<>(requiredOutputs))
        .append(", found inputs ").append(new TreeSet<>(inputs))
        .append(" and outputs ").append(new TreeSet<>(outputs));
    throw new ModelLoadException(file, msg.toString());
  }

  public String modelId() {
    return modelId;
  }

  public String file() {
    return file;
  }

  /** The graph's input names. */
  public Set<String> inputNames() {
    return session.getInputNames();
  }

  /**
   * Checks the declared element type and rank of an input or output, so that a graph exported with,
   * say, int32 ids or a rank-2 output where rank 3 is needed fails at load, not at the first record.
   *
   * @param dims the expected dimensions by meaning, e.g. {@code "batch", "sequence"}: their count is
   *             the rank, their names say in the message what was expected
   * @throws ModelLoadException naming the file, the tensor, what it is and what was expected
   */
  public void requireTensor(String name, OnnxJavaType type, String... dims) {
    int rank = dims.length;
    String shapeDoc = "[" + String.join(", ", dims) + "]";
    TensorInfo tensor = tensorInfo(name);
    String kind = session.getInputNames().contains(name) ? "input " : "output ";
    if (tensor.type != type) {
      throw new ModelLoadException(file, "model " + modelId + ": " + kind + name + " has element type "
          + typeName(tensor.type) + ", expected " + typeName(type) + " " + shapeDoc);
    }
    if (tensor.getShape().length != rank) {
      throw new ModelLoadException(file, "model " + modelId + ": " + kind + name + " has shape "
          + shapeString(tensor.getShape()) + " (rank " + tensor.getShape().length + "), expected rank " + rank
          + " " + shapeDoc);
    }
  }

  /** {@code float32}, {@code int64}, ...: ONNX's names, which is what exporters and users know. */
  private static String typeName(OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> "float32";
      case DOUBLE -> "float64";
      case FLOAT16 -> "float16";
      case BFLOAT16 -> "bfloat16";
      default -> type.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /** A declared shape with dynamic dimensions shown as {@code ?}. */
  public static String shapeString(long[] shape) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
    }
    return sb.append(']').toString();
  }

  /**
   * Declared shape of an input or output ({@code -1} for a dynamic dimension).
   *
   * @throws ModelLoadException if there is no such tensor
   */
  public long[] shape(String name) {
    return tensorInfo(name).getShape();
  }

  private TensorInfo tensorInfo(String name) {
    try {
      NodeInfo node = session.getInputInfo().get(name);
      if (node == null) {
        node = session.getOutputInfo().get(name);
      }
      ValueInfo info = node == null ? null : node.getInfo();
      if (!(info instanceof TensorInfo tensor)) {
        throw new ModelLoadException(file, "model " + modelId + " has no tensor named " + name);
      }
      return tensor;
    } catch (OrtException e) {
      throw new ModelLoadException(file, "cannot read the interface of model " + modelId + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs the model.
   *
   * @param inputs  every graph input by name
   * @param outputs the outputs to compute
   * @return the outputs, owned by the caller (close it)
   * @throws InferenceException wrapping ONNX Runtime's failure
   */
  public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> outputs) {
    try {
      return session.run(inputs, outputs);
    } catch (OrtException e) {
      throw new InferenceException(modelId, file, "inference failed: " + e.getMessage(), e);
    }
  }

  /** An int64 tensor over {@code data} (row-major), owned by the caller. */
  public OnnxTensor longTensor(long[] data, long... shape) {
    try {
      return OnnxTensor.createTensor(runtime.environment(), LongBuffer.wrap(data), shape);
    } catch (OrtException e) {
      throw new InferenceException(modelId, file, "cannot create an input tensor: " + e.getMessage(), e);
    }
  }

  /** A float32 tensor over {@code data} (row-major), owned by the caller. */
  public OnnxTensor floatTensor(float[] data, long... shape) {
    try {
      return OnnxTensor.createTensor(runtime.environment(), FloatBuffer.wrap(data), shape);
    } catch (OrtException e) {
      throw new InferenceException(modelId, file, "cannot create an input tensor: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a float32 output as a flat row-major array.
   *
   * @throws InferenceException if the output is absent or not a float tensor of {@code expectedSize} values
   */
  public float[] floats(OrtSession.Result result, String name, long expectedSize) {
    OnnxTensor tensor = result.get(name)
        .filter(OnnxTensor.class::isInstance)
        .map(OnnxTensor.class::cast)
        .orElseThrow(() -> new InferenceException(modelId, file, "output " + name + " is missing", null));
    FloatBuffer buffer = tensor.getFloatBuffer();
    if (buffer == null || buffer.remaining() != expectedSize) {
      throw new InferenceException(modelId, file, "output " + name + " has shape "
          + Arrays.toString(tensor.getInfo().getShape()) + ", expected " + expectedSize + " float values", null);
    }
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  /** Releases the native session. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("cannot close the session of model " + modelId + " (" + file + ")", e);
    }
  }

  @Override
  public String toString() {
    return "ModelSession[" + modelId + ", " + file + "]";
  }
}
