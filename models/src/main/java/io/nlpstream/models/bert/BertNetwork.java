package io.nlpstream.models.bert;

/**
 * The neural part of the BERT stage: one padded batch of token ids in, the three heads' logits out.
 * {@link EncoderWithHeads} runs an encoder session feeding a heads session; a fused single-graph
 * model (same inputs, same three outputs) would be a second implementation.
 *
 * <p>Implementations need not be safe for concurrent {@link #run} calls; {@link BertAnalyzer}
 * serialises them. Ownership: the creator (or the analyzer it is handed to) closes it.
 */
public interface BertNetwork extends AutoCloseable {

  /**
   * Logits of one batch, flat and row-major.
   *
   * @param sentiment [batch, sentimentLabels]
   * @param classes   [batch, classLabels]
   * @param entities  [batch, seq, entityLabels]
   */
  record Logits(float[] sentiment, float[] classes, float[] entities) {}

  /**
   * Runs one batch.
   *
   * @param inputIds      [batch, seq] token ids, row-major, each row {@code [CLS] ... [SEP]} then padding
   * @param attentionMask [batch, seq] 1 for real tokens, 0 for padding
   * @throws io.nlpstream.models.runtime.InferenceException naming the model that failed
   */
  Logits run(long[] inputIds, long[] attentionMask, int batch, int seq);

  @Override
  void close();
}
