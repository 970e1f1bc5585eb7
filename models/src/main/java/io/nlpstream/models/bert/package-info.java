/**
 * The BERT stage: the {@link io.nlpstream.models.bert.TextAnalyzer} contract and its implementation
 * {@link io.nlpstream.models.bert.BertAnalyzer}: sliding windows over long texts, one encoder pass per
 * length-sorted batch feeding every head, IOB2 entity decoding over the whole text.
 */
package io.nlpstream.models.bert;
