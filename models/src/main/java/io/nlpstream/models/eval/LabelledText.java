package io.nlpstream.models.eval;

/** One labelled example of a classification data set; {@code label} is the label's name (e.g. "positive"). */
public record LabelledText(String text, String label) {}
