/**
 * The BERT stage: the {@link io.nlpstream.models.bert.TextAnalyzer} contract and its implementation
 * {@link io.nlpstream.models.bert.BertAnalyzer}: sliding windows over long texts, one network pass
 * per length-sorted batch feeding every head of that network, IOB2 entity decoding over the whole
 * text.
 *
 * <p>Structure: a {@link io.nlpstream.models.bert.BertAnalyzer} runs one {@link
 * io.nlpstream.models.bert.EncoderPass} per model (tokenizer, {@link
 * io.nlpstream.models.bert.BertNetwork}, the heads of the {@link io.nlpstream.models.bert.Role}s that
 * model serves) and merges their results. Networks: {@link io.nlpstream.models.bert.EncoderWithHeads}
 * (encoder session + heads session), {@link io.nlpstream.models.bert.FusedMultiHead} (one graph, all
 * heads, optional {@code case_ids}), {@link io.nlpstream.models.bert.HuggingFaceClassifier} (a
 * Hugging Face sequence- or token-classification export, one role, its labels projected onto the
 * contract's by a {@link io.nlpstream.models.bert.LabelProjection}).
 */
package io.nlpstream.models.bert;
