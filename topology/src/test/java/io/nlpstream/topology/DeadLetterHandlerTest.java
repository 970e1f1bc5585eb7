package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.models.runtime.InferenceException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class DeadLetterHandlerTest {

  record Context(String topic, int partition, long offset, Headers headers, String processorNodeId, TaskId taskId,
                 long timestamp, byte[] sourceRawKey, byte[] sourceRawValue) implements ErrorHandlerContext {}

  private static final byte[] RAW = "{\"text\":\"raw\"}".getBytes(StandardCharsets.UTF_8);
  private static final Context IN_PROCESS = new Context("text.in", 1, 7, new RecordHeaders(),
      EnrichmentTopology.BERT_NODE, new TaskId(0, 1), 1234, "k".getBytes(StandardCharsets.UTF_8), RAW);
  private static final Context IN_PUNCTUATION = new Context(null, -1, -1, new RecordHeaders(),
      EnrichmentTopology.BERT_NODE, new TaskId(0, 1), 1234, null, null);

  private final PipelineCounters counters = new PipelineCounters();
  private final DeadLetterHandler handler = new DeadLetterHandler();

  DeadLetterHandlerTest() {
    handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "text.dlq",
        StreamsSettings.COUNTERS, counters));
  }

  private static JsonNode deadLetter(ProducerRecord<byte[], byte[]> r) {
    assertThat(r.topic()).isEqualTo("text.dlq");
    return RecordSchemas.assertValid(RecordSchemas.DEAD_LETTER, r.value());
  }

  @Test
  void needsTheDeadLetterTopic() {
    assertThatThrownBy(() -> new DeadLetterHandler().configure(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
  }

  @Test
  void aProcessorExceptionBecomesAProcessingErrorWithTheRecordsOriginalBytes() {
    SourceRecord origin = new SourceRecord("text.in", 1, 7, 99, null, "{\"text\":\"x\",\"id\":\"e7\"}".getBytes());
    TextEvent event = new TextEvent("e7", "x", null, null, null, null, null);
    ProcessingExceptionHandler.Response response = handler.handleError(IN_PROCESS,
        new Record<>("e7", new ParsedInput(origin, event), 99), new IllegalArgumentException("bug", new RuntimeException("root")));

    assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
    assertThat(response.deadLetterQueueRecords()).hasSize(1);
    ProducerRecord<byte[], byte[]> r = response.deadLetterQueueRecords().get(0);
    JsonNode v = deadLetter(r);
    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("e7");
    assertThat(r.timestamp()).isEqualTo(99);
    assertThat(v.get("reason").asText()).isEqualTo("processing_error");
    assertThat(v.get("stage").asText()).isEqualTo("bert");
    assertThat(v.get("message").asText()).isEqualTo("java.lang.IllegalArgumentException: bug; caused by java.lang.RuntimeException: root");
    assertThat(v.get("exception").asText()).isEqualTo("java.lang.IllegalArgumentException");
    assertThat(Base64.getDecoder().decode(v.get("value_base64").asText())).isEqualTo(origin.value());
    assertThat(counters.snapshot().deadLetters()).isEqualTo(Map.of("processing_error", 1L));
  }

  @Test
  void withoutAnOriginInTheValueTheRawRecordOfTheContextIsUsed() {
    Context routeNode = new Context("text.in", 1, 7, new RecordHeaders(), EnrichmentTopology.ROUTE_NODE,
        new TaskId(0, 1), 1234, null, RAW);
    ProducerRecord<byte[], byte[]> r = handler.handleError(routeNode, new Record<>("e7", "opaque", 5),
        new IllegalStateException("x")).deadLetterQueueRecords().get(0);
    JsonNode v = deadLetter(r);
    assertThat(v.get("stage").asText()).isEqualTo("route");
    assertThat(v.get("source").get("offset").asLong()).isEqualTo(7);
    assertThat(Base64.getDecoder().decode(v.get("value_base64").asText())).isEqualTo(RAW);
  }

  @Test
  void anInferenceExceptionIsAnInferenceErrorNamingTheModel() {
    ProcessingExceptionHandler.Response response = handler.handleError(IN_PROCESS, new Record<>("e7", "v", 5),
        new InferenceException("minilm-heads", "heads.onnx", "ORT failed", null));
    JsonNode v = deadLetter(response.deadLetterQueueRecords().get(0));
    assertThat(v.get("reason").asText()).isEqualTo("inference_error");
    assertThat(v.get("model").asText()).isEqualTo("minilm-heads");
  }

  @Test
  void failuresThatAreNotARecordsFaultFailTheTaskWithoutADeadLetter() {
    for (Exception e : new Exception[] {new BertStageClosedException("closed"), new StreamsException("store"),
        new RuntimeException(new InterruptedException())}) {
      ProcessingExceptionHandler.Response response = handler.handleError(IN_PROCESS, new Record<>("k", "v", 5), e);
      assertThat(response.result()).as(e.toString()).isEqualTo(ProcessingExceptionHandler.Result.FAIL);
      assertThat(response.deadLetterQueueRecords()).isEmpty();
    }
    ProcessingExceptionHandler.Response punctuation = handler.handleError(IN_PUNCTUATION, (Record<?, ?>) null,
        new IllegalStateException("bug in a punctuator"));
    assertThat(punctuation.result()).isEqualTo(ProcessingExceptionHandler.Result.FAIL);
    assertThat(counters.snapshot().deadLettersTotal()).isZero();
  }

  @Test
  void aDeserializationErrorIsDeadLetteredWithTheConsumedBytes() {
    ConsumerRecord<byte[], byte[]> consumed = new ConsumerRecord<>("text.in", 2, 11, "k".getBytes(), RAW);
    DeserializationExceptionHandler.Response response = handler.handleError(IN_PROCESS, consumed,
        new IllegalStateException("cannot read"));
    assertThat(response.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
    JsonNode v = deadLetter(response.deadLetterQueueRecords().get(0));
    assertThat(v.get("stage").asText()).isEqualTo("deserialize");
    assertThat(v.get("source").get("partition").asInt()).isEqualTo(2);
    assertThat(Base64.getDecoder().decode(v.get("value_base64").asText())).isEqualTo(RAW);
  }

  @Test
  void productionErrors() {
    ProducerRecord<byte[], byte[]> enriched = new ProducerRecord<>("text.enriched", "e7".getBytes(), new byte[10]);

    ProductionExceptionHandler.Response tooLarge = handler.handleError(IN_PUNCTUATION, enriched,
        new RecordTooLargeException("2 MB"));
    assertThat(tooLarge.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
    JsonNode v = deadLetter(tooLarge.deadLetterQueueRecords().get(0));
    assertThat(v.get("reason").asText()).isEqualTo("too_large");
    assertThat(v.get("stage").asText()).isEqualTo("produce");
    assertThat(v.get("id").asText()).isEqualTo("e7");
    assertThat(v.get("message").asText()).startsWith("output record to text.enriched: ");

    assertThat(handler.handleError(IN_PROCESS, enriched, new TimeoutException("slow")).result())
        .isEqualTo(ProductionExceptionHandler.Result.RETRY);
    assertThat(handler.handleError(IN_PROCESS, enriched, new TopicAuthorizationException("no")).result())
        .isEqualTo(ProductionExceptionHandler.Result.FAIL);
    ProducerRecord<byte[], byte[]> dlq = new ProducerRecord<>("text.dlq", "e7".getBytes(), new byte[10]);
    assertThat(handler.handleError(IN_PROCESS, dlq, new RecordTooLargeException("2 MB")).result())
        .as("a dead letter that cannot be written must not be dead-lettered again")
        .isEqualTo(ProductionExceptionHandler.Result.FAIL);

    ProductionExceptionHandler.Response serialization = handler.handleSerializationError(IN_PROCESS,
        new ProducerRecord<>("text.gpt.requests", "e7", new Object()), new IllegalStateException("no"),
        SerializationExceptionOrigin.VALUE);
    assertThat(serialization.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
    JsonNode s = deadLetter(serialization.deadLetterQueueRecords().get(0));
    assertThat(s.get("reason").asText()).isEqualTo("processing_error");
    assertThat(Base64.getDecoder().decode(s.get("value_base64").asText())).isEqualTo(RAW);
    assertThat(counters.snapshot().deadLetters()).isEqualTo(Map.of("too_large", 1L, "processing_error", 1L));
  }
}
