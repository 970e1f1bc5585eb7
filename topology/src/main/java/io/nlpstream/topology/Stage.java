package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The step of the pipeline where a record was dead-lettered. Written in JSON as its lower-case name. */
public enum Stage {
  /** Kafka Streams' deserializers (before our code; cannot fail with the byte-array serdes we use). */
  DESERIALIZE,
  /** Size check, UTF-8 decoding, JSON parsing and validation. */
  PARSE,
  /** The batched BERT inference and the building of the enriched record. */
  BERT,
  /** Routing of enriched records to the GPT stage. */
  ROUTE,
  /** The GPT stage: reading a generation request, generating, building the output record. */
  GPT,
  /** Serializing or sending an output record. */
  PRODUCE;

  @JsonValue
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}
