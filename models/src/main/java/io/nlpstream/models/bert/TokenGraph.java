package io.nlpstream.models.bert;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.ModelSession;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The conventions of a graph that takes token ids directly (fused multi-head models, Hugging Face
 * exports): its int64 [batch, sequence] inputs, fed by name and only when declared, and checks of
 * its float32 logits outputs at load.
 */
final class TokenGraph {

  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String TOKEN_TYPE_IDS = "token_type_ids";
  static final String CASE_IDS = "case_ids";

  private TokenGraph() {}

  /** Every declared input must be int64 [batch, sequence]. */
  static void checkInputs(ModelSession session) {
    for (String input : session.inputNames()) {
      session.requireTensor(input, OnnxJavaType.INT64, "batch", "sequence");
    }
  }

  /**
   * Checks a float32 logits output: its rank, and its last (label) dimension when the graph
   * declares it.
   *
   * @param labelsSource what lists the labels, for the message (e.g. {@code model.json labels.classes})
   * @return true when the label dimension is dynamic, so that only a run can check it
   */
  static boolean checkLogits(ModelSession session, String output, int labels, String labelsSource, String... dims) {
    session.requireTensor(output, OnnxJavaType.FLOAT, dims);
    long[] shape = session.shape(output);
    long last = shape[shape.length - 1];
    if (last >= 0 && last != labels) {
      throw new ModelLoadException(session.file(), "model " + session.modelId() + ": output " + output
          + " has shape " + ModelSession.shapeString(shape) + ", " + last + " labels, but " + labelsSource
          + " lists " + labels);
    }
    return last < 0;
  }

  /**
   * Runs a one-text batch ({@code [CLS] [SEP]} as ids 0) and checks that each output holds the
   * expected number of values: the label check for graphs whose label dimension is dynamic.
   *
   * @param expected values per output for a batch of one sequence of two tokens
   * @throws ModelLoadException naming the file when the run fails or a count differs
   */
  static void probe(ModelSession session, Map<String, Integer> expected, Map<String, String> labelsSources) {
    int seq = 2;
    BertNetwork.Batch batch = new BertNetwork.Batch(new long[seq], new long[] {1, 1},
        session.inputNames().contains(CASE_IDS) ? new long[seq] : null, 1, seq);
    try (Inputs inputs = Inputs.of(session, batch);
         OrtSession.Result result = session.run(inputs.tensors(), expected.keySet())) {
      for (Map.Entry<String, Integer> e : expected.entrySet()) {
        OnnxTensor tensor = (OnnxTensor) result.get(e.getKey()).orElseThrow();
        long[] shape = tensor.getInfo().getShape();
        if (tensor.getInfo().getNumElements() != e.getValue()) {
          throw new ModelLoadException(session.file(), "model " + session.modelId() + ": output " + e.getKey()
              + " has shape " + ModelSession.shapeString(shape) + " for one sequence of " + seq + " tokens, "
              + shape[shape.length - 1] + " labels, but " + labelsSources.get(e.getKey()) + " lists "
              + (e.getValue() / (shape.length == 3 ? seq : 1)));
        }
      }
    } catch (InferenceException e) {
      throw new ModelLoadException(session.file(), "model " + session.modelId()
          + " fails on a one-text probe batch: " + e.getMessage(), e);
    }
  }

  /** The input tensors of one batch: those the graph declares, each owned here until closed. */
  static final class Inputs implements AutoCloseable {
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();

    private Inputs() {}

    static Inputs of(ModelSession session, BertNetwork.Batch batch) {
      Set<String> declared = session.inputNames();
      Inputs inputs = new Inputs();
      try {
        for (String name : declared) {
          long[] data = switch (name) {
            case INPUT_IDS -> batch.inputIds();
            case ATTENTION_MASK -> batch.attentionMask();
            case TOKEN_TYPE_IDS -> new long[batch.size() * batch.seq()];
            case CASE_IDS -> batch.caseIds();
            default -> throw new IllegalStateException("input " + name + " passed the load checks");
          };
          if (data == null) {
            throw new IllegalArgumentException("model " + session.modelId() + " needs " + name + ", the batch has none");
          }
          inputs.tensors.put(name, session.longTensor(data, batch.size(), batch.seq()));
        }
        return inputs;
      } catch (RuntimeException e) {
        inputs.close();
        throw e;
      }
    }

    Map<String, OnnxTensor> tensors() {
      return tensors;
    }

    @Override
    public void close() {
      tensors.values().forEach(OnnxTensor::close);
    }
  }
}
