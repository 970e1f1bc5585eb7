package io.nlpstream.models.bert;

/**
 * The neural part of the BERT stage: one padded batch of token ids in, logits out. Implementations:
 * {@link EncoderWithHeads} (an encoder session feeding a heads session), {@link FusedMultiHead}
 * (one graph from token ids to the three heads' logits) and {@link HuggingFaceClassifier} (a
 * Hugging Face sequence- or token-classification export serving one role).
 *
 * <p>Implementations need not be safe for concurrent {@link #run} calls; {@link BertAnalyzer}
 * serialises them. Ownership: the creator (or the {@link EncoderPass} it is handed to) closes it.
 */
public interface BertNetwork extends AutoCloseable {

  /**
   * One padded batch, flat and row-major.
   *
   * @param inputIds      [size, seq] token ids, each row {@code [CLS] ... [SEP]} then padding
   * @param attentionMask [size, seq] 1 for real tokens, 0 for padding
   * @param caseIds       [size, seq] {@link io.nlpstream.models.tokenizer.Casing} class of each token
   *                      (0 for special tokens and padding) when {@link #needsCaseIds()}, else null
   */
  record Batch(long[] inputIds, long[] attentionMask, long[] caseIds, int size, int seq) {
    public Batch {
      if (inputIds.length != size * seq || attentionMask.length != size * seq
          || (caseIds != null && caseIds.length != size * seq)) {
        throw new IllegalArgumentException("batch arrays do not hold " + size + " x " + seq + " values");
      }
    }
  }

  /**
   * Logits of one batch, flat and row-major, in the label order the network was built with. A
   * network that does not compute a role returns null for it.
   *
   * @param sentiment [batch, sentimentLabels]
   * @param classes   [batch, classLabels]
   * @param entities  [batch, seq, entityLabels]
   */
  record Logits(float[] sentiment, float[] classes, float[] entities) {}

  /** Whether {@link #run} needs {@link Batch#caseIds()} (the graph declares {@code case_ids}). */
  default boolean needsCaseIds() {
    return false;
  }

  /**
   * Runs one batch.
   *
   * @throws io.nlpstream.models.runtime.InferenceException naming the model that failed
   */
  Logits run(Batch batch);

  @Override
  void close();
}
