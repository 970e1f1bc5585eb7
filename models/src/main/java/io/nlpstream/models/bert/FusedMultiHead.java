package io.nlpstream.models.bert;

import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.ModelSession;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A fine-tuned multi-head model exported as one graph: one session call per batch returns every
 * head's logits (the encoder's hidden states never leave ONNX Runtime).
 *
 * <p>Interface: inputs {@code input_ids}, {@code attention_mask} and, when the graph declares them,
 * {@code token_type_ids} (zeros) and {@code case_ids} (the {@link io.nlpstream.models.tokenizer.Casing}
 * class of each token, for an encoder whose tokenizer lower-cases), all int64 [B,S]; outputs
 * float32 {@code sentiment_logits} [B,Ns], {@code class_logits} [B,Nc], {@code entity_logits}
 * [B,S,Ne] in the label order of the bundle's {@code model.json}.
 *
 * <p>Not safe for concurrent runs (callers serialise); owns and closes its session.
 */
public final class FusedMultiHead implements BertNetwork {

  public static final Set<String> REQUIRED_INPUTS = Set.of(TokenGraph.INPUT_IDS, TokenGraph.ATTENTION_MASK);
  public static final Set<String> OPTIONAL_INPUTS = Set.of(TokenGraph.TOKEN_TYPE_IDS, TokenGraph.CASE_IDS);
  public static final Set<String> OUTPUTS = Set.of("sentiment_logits", "class_logits", "entity_logits");

  private final ModelSession session;
  private final int sentimentLabels;
  private final int classLabels;
  private final int entityLabels;
  private final boolean caseIds;

  /**
   * Takes ownership of the session (closes it on failure too) and checks the interface: int64
   * [batch, sequence] inputs, float32 outputs of the right rank, and label dimensions equal to the
   * label counts of {@code model.json}: from the declared shapes, or from a one-text probe run when
   * a label dimension is dynamic.
   *
   * @throws io.nlpstream.models.runtime.ModelLoadException naming the file and what disagrees
   */
  public FusedMultiHead(ModelSession session, int sentimentLabels, int classLabels, int entityLabels) {
    this.session = session;
    this.sentimentLabels = sentimentLabels;
    this.classLabels = classLabels;
    this.entityLabels = entityLabels;
    this.caseIds = session.inputNames().contains(TokenGraph.CASE_IDS);
    try {
      TokenGraph.checkInputs(session);
      boolean dynamic = TokenGraph.checkLogits(session, "sentiment_logits", sentimentLabels,
          "model.json labels.sentiment", "batch", "labels");
      dynamic |= TokenGraph.checkLogits(session, "class_logits", classLabels,
          "model.json labels.classes", "batch", "labels");
      dynamic |= TokenGraph.checkLogits(session, "entity_logits", entityLabels,
          "model.json labels.entities", "batch", "sequence", "labels");
      if (dynamic) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("sentiment_logits", sentimentLabels);
        counts.put("class_logits", classLabels);
        counts.put("entity_logits", 2 * entityLabels);
        TokenGraph.probe(session, counts, Map.of("sentiment_logits", "model.json labels.sentiment",
            "class_logits", "model.json labels.classes", "entity_logits", "model.json labels.entities"));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public boolean needsCaseIds() {
    return caseIds;
  }

  @Override
  public Logits run(Batch batch) {
    try (TokenGraph.Inputs inputs = TokenGraph.Inputs.of(session, batch);
         OrtSession.Result out = session.run(inputs.tensors(), OUTPUTS)) {
      return new Logits(
          session.floats(out, "sentiment_logits", (long) batch.size() * sentimentLabels),
          session.floats(out, "class_logits", (long) batch.size() * classLabels),
          session.floats(out, "entity_logits", (long) batch.size() * batch.seq() * entityLabels));
    }
  }

  @Override
  public void close() {
    session.close();
  }
}
