package io.nlpstream.topology;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the GPT stage answers once: an input id and a kind. Key of its buffer store (a request in
 * flight) and of its answered store (a request answered).
 *
 * <p>Serialized as UTF-8 {@code <kind>/<inputId>} (e.g. {@code summary/evt-42}): readable in the
 * changelogs, and unambiguous because a kind never contains '/'.
 */
public record RequestKey(String inputId, Task kind) {

  public RequestKey {
    Objects.requireNonNull(inputId, "inputId");
    Objects.requireNonNull(kind, "kind");
  }

  @Override
  public String toString() {
    return kind.code() + "/" + inputId;
  }

  static final Serializer<RequestKey> SERIALIZER = (topic, key) -> key == null ? null
      : key.toString().getBytes(StandardCharsets.UTF_8);

  static final Deserializer<RequestKey> DESERIALIZER = (topic, bytes) -> {
    if (bytes == null) {
      return null;
    }
    String s = new String(bytes, StandardCharsets.UTF_8);
    int slash = s.indexOf('/');
    Task kind = slash < 0 ? null : Task.ofCode(s.substring(0, slash)).orElse(null);
    if (kind == null) {
      throw new SerializationException("not a request key (<kind>/<inputId>): " + s);
    }
    return new RequestKey(s.substring(slash + 1), kind);
  };

  static Serde<RequestKey> serde() {
    return Serdes.serdeFrom(SERIALIZER, DESERIALIZER);
  }
}
