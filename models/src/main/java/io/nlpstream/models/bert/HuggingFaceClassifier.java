package io.nlpstream.models.bert;

import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.ModelSession;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code *ForSequenceClassification} or {@code *ForTokenClassification} model
 * exported to ONNX (e.g. by {@code optimum-cli export onnx}), serving one {@link Role}: sequence
 * classification serves {@link Role#SENTIMENT} or {@link Role#CLASSES}, token classification serves
 * {@link Role#ENTITIES}.
 *
 * <p>Interface: inputs {@code input_ids}, {@code attention_mask} and, only if the graph declares it
 * (BERT does, DistilBERT and RoBERTa exports do not), {@code token_type_ids}, all int64 [B,S];
 * output float32 {@code logits}, [B, labels] for sequence classification and [B, S, labels] for
 * token classification. The model's labels ({@code config.json id2label}) are projected onto the
 * contract's labels by a {@link LabelProjection}; {@link #run} returns the projected logits in the
 * field of its role.
 *
 * <p>Not safe for concurrent runs (callers serialise); owns and closes its session.
 */
public final class HuggingFaceClassifier implements BertNetwork {

  public static final Set<String> REQUIRED_INPUTS = Set.of(TokenGraph.INPUT_IDS, TokenGraph.ATTENTION_MASK);
  public static final Set<String> OPTIONAL_INPUTS = Set.of(TokenGraph.TOKEN_TYPE_IDS);
  public static final String LOGITS = "logits";
  public static final Set<String> OUTPUTS = Set.of(LOGITS);

  private final ModelSession session;
  private final Role role;
  private final LabelProjection labels;

  /**
   * Takes ownership of the session (closes it on failure too) and checks the interface: int64
   * inputs, a float32 {@code logits} output of rank 2 (sentence roles) or 3 (entities) whose label
   * dimension equals the number of model labels (declared, or measured by a one-text probe run when
   * the graph leaves it dynamic).
   *
   * @param labels       the model labels (in output order) projected onto the role's contract labels
   * @param labelsSource what lists the model labels, for messages (the {@code config.json} file)
   * @throws io.nlpstream.models.runtime.ModelLoadException naming the file and what disagrees
   */
  public HuggingFaceClassifier(ModelSession session, Role role, LabelProjection labels, String labelsSource) {
    this.session = session;
    this.role = role;
    this.labels = labels;
    try {
      TokenGraph.checkInputs(session);
      String source = labelsSource + " id2label";
      boolean dynamic = role.sentenceLevel()
          ? TokenGraph.checkLogits(session, LOGITS, labels.sources(), source, "batch", "labels")
          : TokenGraph.checkLogits(session, LOGITS, labels.sources(), source, "batch", "sequence", "labels");
      if (dynamic) {
        TokenGraph.probe(session, Map.of(LOGITS, labels.sources() * (role.sentenceLevel() ? 1 : 2)),
            Map.of(LOGITS, source));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public Role role() {
    return role;
  }

  /** The contract labels of the logits {@link #run} returns. */
  public LabelProjection labels() {
    return labels;
  }

  @Override
  public Logits run(Batch batch) {
    int rows = role.sentenceLevel() ? batch.size() : batch.size() * batch.seq();
    float[] logits;
    try (TokenGraph.Inputs inputs = TokenGraph.Inputs.of(session, batch);
         OrtSession.Result out = session.run(inputs.tensors(), OUTPUTS)) {
      logits = labels.apply(session.floats(out, LOGITS, (long) rows * labels.sources()), rows);
    }
    return switch (role) {
      case SENTIMENT -> new Logits(logits, null, null);
      case CLASSES -> new Logits(null, logits, null);
      case ENTITIES -> new Logits(null, null, logits);
    };
  }

  @Override
  public void close() {
    session.close();
  }
}
