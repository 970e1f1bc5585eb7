package io.nlpstream.topology;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The JSON form of every record nlpstream writes (enriched events, GPT requests, dead letters, the
 * BERT stage's buffered records): snake_case field names, absent (null) fields omitted.
 *
 * <p>Thread-safe: the mapper is configured once here and never changed.
 */
public final class RecordJson {

  static final ObjectMapper MAPPER = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .setDefaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
          JsonInclude.Include.NON_NULL))
      // Our own stored records may gain fields in a later version; reading an older store must not fail.
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private RecordJson() {}

  /** Serializes any nlpstream record type to UTF-8 JSON. */
  public static Serializer<Object> serializer() {
    return (topic, value) -> value == null ? null : write(value);
  }

  /** Reads JSON written by {@link #serializer()} back into {@code type}. */
  public static <T> Deserializer<T> deserializer(Class<T> type) {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      try {
        return MAPPER.readValue(bytes, type);
      } catch (IOException e) {
        throw new SerializationException("cannot read " + type.getSimpleName() + " from topic " + topic, e);
      }
    };
  }

  public static <T> Serde<T> serde(Class<T> type) {
    Serializer<T> ser = (topic, value) -> value == null ? null : write(value);
    return Serdes.serdeFrom(ser, deserializer(type));
  }

  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }
}
