package io.nlpstream.topology;

/**
 * A value flowing through the topology that knows the input record it derives from. The dead-letter
 * handler uses it to recover the original bytes when Kafka Streams' own record context has none
 * (records forwarded from a punctuation).
 */
public interface HasOrigin {

  SourceRecord origin();
}
