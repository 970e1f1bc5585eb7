package io.nlpstream.topology;

import java.util.List;
import org.slf4j.MDC;

/**
 * The record a log line is about, in the logging context (SLF4J MDC, i.e. log4j's ThreadContext):
 * {@code stage} (pipeline stage: bert, gpt), {@code step} (where it failed, as in the dead letter's
 * {@code stage} field), {@code topic}, {@code partition}, {@code offset} and {@code record_id}. The
 * text layout prints them after the message, the JSON layout as fields, so that every error line
 * can be traced to its input record without ever logging the record's content.
 *
 * <p>Use with try-with-resources around the log call; closing removes these six keys.
 * Not thread-safe (MDC is per thread).
 */
final class RecordLogContext implements AutoCloseable {

  static final String STAGE = "stage";
  static final String STEP = "step";
  static final String TOPIC = "topic";
  static final String PARTITION = "partition";
  static final String OFFSET = "offset";
  static final String RECORD_ID = "record_id";
  private static final List<String> KEYS = List.of(STAGE, STEP, TOPIC, PARTITION, OFFSET, RECORD_ID);

  private RecordLogContext() {}

  /**
   * @param stage  pipeline stage, or null when unknown
   * @param step   the step, or null
   * @param origin the input record, or null (punctuation)
   * @param id     the event id, or null (then the derived id of {@code origin}, if any)
   */
  static RecordLogContext of(String stage, Stage step, SourceRecord origin, String id) {
    put(STAGE, stage);
    put(STEP, step == null ? null : step.code());
    if (origin != null) {
      put(TOPIC, origin.topic());
      put(PARTITION, String.valueOf(origin.partition()));
      put(OFFSET, String.valueOf(origin.offset()));
    }
    put(RECORD_ID, id != null ? id : origin == null ? null : origin.derivedId());
    return new RecordLogContext();
  }

  private static void put(String key, String value) {
    if (value != null) {
      MDC.put(key, value);
    }
  }

  @Override
  public void close() {
    KEYS.forEach(MDC::remove);
  }
}
