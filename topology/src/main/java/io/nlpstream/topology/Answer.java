package io.nlpstream.topology;

/**
 * Value of the GPT stage's answered store: that a request was answered, and enough to say how in a
 * log line. Written in the transaction that writes the output record.
 *
 * @param model           model id that generated the answer
 * @param generatedTokens tokens generated
 * @param answeredAt      when, ISO-8601 UTC
 * @param offset          offset of the request record answered (partition: the task's)
 */
public record Answer(String model, int generatedTokens, String answeredAt, long offset) {}
