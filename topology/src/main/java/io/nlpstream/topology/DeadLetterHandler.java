package io.nlpstream.topology;

import io.nlpstream.models.runtime.InferenceException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failure policy of the enrichment topology, in one place: Kafka Streams' processing,
 * deserialization and production exception handlers, answering with dead-letter records in
 * nlpstream's own format ({@link DeadLetter}) through Kafka Streams' dead-letter support (KIP-1034:
 * the records of a {@code Response} are produced with the task's producer, in its transaction).
 *
 * <table>
 *   <caption>Policy</caption>
 *   <tr><th>exception</th><th>response</th></tr>
 *   <tr><td>{@link StageClosedException} (BERT or GPT stage closed), {@link InterruptException}, {@link StreamsException}
 *       (state store, task migration: infrastructure)</td>
 *       <td>fail the task, no dead letter: the record is not at fault and is reprocessed after restart</td></tr>
 *   <tr><td>any exception of a punctuation (no record to blame)</td><td>fail: resuming would repeat it every few ms</td></tr>
 *   <tr><td>{@link InferenceException} in a processor</td><td>dead letter {@code inference_error} with the model id; continue</td></tr>
 *   <tr><td>any other exception in a processor or deserializer</td><td>dead letter {@code processing_error}; continue</td></tr>
 *   <tr><td>output serialization error</td><td>dead letter {@code processing_error}, stage {@code produce}; continue</td></tr>
 *   <tr><td>output refused as too large</td><td>dead letter {@code too_large}, stage {@code produce}; continue</td></tr>
 *   <tr><td>retriable send error</td><td>retry; any other send error: fail</td></tr>
 * </table>
 * Every decision is logged with its stack trace and the record's coordinates in the logging context
 * ({@link RecordLogContext}), never with the record's content; every dead letter is counted.
 *
 * <p>Configured by Kafka Streams from the streams properties: {@code errors.dead.letter.queue.topic.name}
 * (required) and, optionally, {@value StreamsSettings#COUNTERS} (a {@link DeadLetterCounter}: the
 * stage's counters).
 * Kafka Streams creates one instance per stream thread; instances are immutable after {@link #configure}.
 */
public final class DeadLetterHandler
    implements ProcessingExceptionHandler, DeserializationExceptionHandler, ProductionExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

  private String topic;
  private DeadLetterCounter counters;

  @Override
  public void configure(Map<String, ?> configs) {
    Object t = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    if (!(t instanceof String s) || s.isBlank()) {
      throw new ConfigException(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, t,
          DeadLetterHandler.class.getSimpleName() + " needs the dead-letter topic");
    }
    this.topic = s;
    this.counters = configs.get(StreamsSettings.COUNTERS) instanceof DeadLetterCounter c ? c : null;
  }

  @Override
  public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record,
                                                        Exception exception) {
    Stage step = EnrichmentTopology.stageOf(context.processorNodeId());
    SourceRecord origin = record != null && record.value() instanceof HasOrigin h ? h.origin() : fromContext(context);
    String id = record != null && record.key() instanceof String s ? s : null;
    if (isInfrastructure(exception) || record == null) {
      try (RecordLogContext log = RecordLogContext.of(stageName(), step, origin, id)) {
        LOG.error("Failing task {}: {} in processor {} ({}) is not the fault of a record", context.taskId(),
            exception.getClass().getSimpleName(), context.processorNodeId(),
            record == null ? "punctuation" : "record " + coordinates(context), exception);
      }
      return ProcessingExceptionHandler.Response.fail();
    }
    boolean inference = exception instanceof InferenceException;
    DeadLetterReason reason = inference ? DeadLetterReason.INFERENCE_ERROR : DeadLetterReason.PROCESSING_ERROR;
    String model = inference ? ((InferenceException) exception).modelId() : null;
    try (RecordLogContext log = RecordLogContext.of(stageName(), step, origin, id)) {
      LOG.error("Dead-lettering {} (id {}) as {}: exception in processor {}", origin, id, reason.code(),
          context.processorNodeId(), exception);
    }
    DeadLetter letter = DeadLetter.of(reason, describe(exception), step, model, id, origin, exception,
        System.currentTimeMillis());
    return ProcessingExceptionHandler.Response.resume(List.of(toRecord(letter, origin)));
  }

  @Override
  public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
                                                             ConsumerRecord<byte[], byte[]> record,
                                                             Exception exception) {
    SourceRecord origin = new SourceRecord(record.topic(), record.partition(), record.offset(), record.timestamp(),
        record.key(), record.value());
    try (RecordLogContext log = RecordLogContext.of(stageName(), Stage.DESERIALIZE, origin, null)) {
      LOG.error("Dead-lettering {}: cannot deserialize it", origin, exception);
    }
    DeadLetter letter = DeadLetter.of(DeadLetterReason.PROCESSING_ERROR, describe(exception), Stage.DESERIALIZE,
        null, null, origin, exception, System.currentTimeMillis());
    return DeserializationExceptionHandler.Response.resume(List.of(toRecord(letter, origin)));
  }

  @Override
  public ProductionExceptionHandler.Response handleError(ErrorHandlerContext context,
                                                        ProducerRecord<byte[], byte[]> record, Exception exception) {
    if (exception instanceof RetriableException) {
      LOG.warn("Retrying send to {}: {}", record.topic(), exception.toString());
      return ProductionExceptionHandler.Response.retry();
    }
    if (exception instanceof RecordTooLargeException && !topic.equals(record.topic())) {
      return deadLetterOutput(context, record, DeadLetterReason.TOO_LARGE, exception);
    }
    try (RecordLogContext log = RecordLogContext.of(stageName(), Stage.PRODUCE, fromContext(context), null)) {
      LOG.error("Failing task {}: cannot send a record to {}", context.taskId(), record.topic(), exception);
    }
    return ProductionExceptionHandler.Response.fail();
  }

  @Override
  @SuppressWarnings("rawtypes")
  public ProductionExceptionHandler.Response handleSerializationError(ErrorHandlerContext context,
                                                                     ProducerRecord record, Exception exception,
                                                                     SerializationExceptionOrigin origin) {
    if (topic.equals(record.topic())) {
      try (RecordLogContext log = RecordLogContext.of(stageName(), Stage.PRODUCE, fromContext(context), null)) {
        LOG.error("Failing task {}: cannot serialize a dead letter", context.taskId(), exception);
      }
      return ProductionExceptionHandler.Response.fail();
    }
    return deadLetterOutput(context, record, DeadLetterReason.PROCESSING_ERROR, exception);
  }

  private ProductionExceptionHandler.Response deadLetterOutput(ErrorHandlerContext context,
                                                              ProducerRecord<?, ?> record,
                                                              DeadLetterReason reason, Exception exception) {
    SourceRecord origin = fromContext(context);
    String id = record.key() instanceof String s ? s
        : record.key() instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : null;
    try (RecordLogContext log = RecordLogContext.of(stageName(), Stage.PRODUCE, origin, id)) {
      LOG.error("Dead-lettering the output record {} to {} as {}", id, record.topic(), reason.code(), exception);
    }
    DeadLetter letter = DeadLetter.of(reason, "output record to " + record.topic() + ": " + describe(exception),
        Stage.PRODUCE, null, id, origin, exception, System.currentTimeMillis());
    return ProductionExceptionHandler.Response.resume(List.of(toRecord(letter, origin)));
  }

  private ProducerRecord<byte[], byte[]> toRecord(DeadLetter letter, SourceRecord origin) {
    if (counters != null) {
      counters.deadLetter(letter.reason(), letter.stage());
    }
    return new ProducerRecord<>(topic, null, origin == null || origin.timestamp() < 0 ? null : origin.timestamp(),
        letter.recordKey().getBytes(StandardCharsets.UTF_8), RecordJson.write(letter));
  }

  /** The pipeline stage whose counters this handler reports to, or null when it has none. */
  private String stageName() {
    return counters == null ? null : counters.stage();
  }

  /** The input record of Kafka Streams' record context, or null (punctuation: no input record). */
  private static SourceRecord fromContext(ErrorHandlerContext context) {
    if (context.topic() == null || context.partition() < 0 || context.offset() < 0) {
      return null;
    }
    return new SourceRecord(context.topic(), context.partition(), context.offset(), context.timestamp(),
        context.sourceRawKey(), context.sourceRawValue());
  }

  private static String coordinates(ErrorHandlerContext context) {
    return context.topic() + "-" + context.partition() + "-" + context.offset();
  }

  private static boolean isInfrastructure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StageClosedException || t instanceof InterruptException
          || t instanceof InterruptedException || t instanceof StreamsException) {
        return true;
      }
    }
    return false;
  }

  /** Exception class and message, then its causes': what an operator needs without the log. */
  static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(e.toString());
    int depth = 0;
    for (Throwable c = e.getCause(); c != null && c != e && depth < 3; c = c.getCause(), depth++) {
      sb.append("; caused by ").append(c);
    }
    return sb.toString();
  }
}
