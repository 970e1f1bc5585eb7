package io.nlpstream.topology;

import java.time.Instant;
import java.util.Base64;
import java.util.Objects;

/**
 * A record of the dead-letter topic ({@code schemas/dead-letter.schema.json}): why, where, and the
 * original bytes, base64-encoded, so that the record can be replayed once the cause is fixed.
 *
 * @param reason      stable reason code
 * @param message     human-readable detail (an exception message, the field at fault)
 * @param stage       where it failed
 * @param model       model id, for model failures; else null
 * @param id          the event id when known (its own or derived); else null
 * @param source      coordinates of the input record; null when unknown
 * @param keyBase64   the input key, base64; null when it had none
 * @param valueBase64 the input value, base64; null for a tombstone or when unknown
 * @param exception   exception class, for unexpected exceptions; else null
 * @param timestamp   when the record was dead-lettered (ISO-8601, UTC)
 */
public record DeadLetter(DeadLetterReason reason, String message, Stage stage, String model, String id,
                         Source source, String keyBase64, String valueBase64, String exception, String timestamp) {

  public DeadLetter {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(timestamp, "timestamp");
  }

  /** Where the input record was read; {@code timestamp} is its Kafka timestamp (epoch ms). */
  public record Source(String topic, Integer partition, Long offset, Long timestamp) {}

  /** A dead letter for {@code origin} (which may be null when the input record is unknown). */
  public static DeadLetter of(DeadLetterReason reason, String message, Stage stage, String model, String id,
                              SourceRecord origin, Throwable exception, long nowMs) {
    Source source = origin == null ? null
        : new Source(origin.topic(), origin.partition(), origin.offset(), origin.timestamp());
    return new DeadLetter(reason, message == null ? "" : message, stage, model,
        id == null && origin != null ? origin.derivedId() : id,
        source, base64(origin == null ? null : origin.key()), base64(origin == null ? null : origin.value()),
        exception == null ? null : exception.getClass().getName(), Instant.ofEpochMilli(nowMs).toString());
  }

  /** The key of the dead-letter record: the event id, or the input coordinates when there is none. */
  public String recordKey() {
    if (id != null) {
      return id;
    }
    if (source != null && source.topic() != null) {
      return source.topic() + "-" + source.partition() + "-" + source.offset();
    }
    return "unknown";
  }

  static String base64(byte[] bytes) {
    return bytes == null ? null : Base64.getEncoder().encodeToString(bytes);
  }
}
