package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import io.nlpstream.broker.EmbeddedKafkaBroker;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.faults.DeliveryAudit;
import io.nlpstream.faults.DeliveryAudit.Output;
import io.nlpstream.faults.EventFeed;
import io.nlpstream.faults.EventFeed.Event;
import io.nlpstream.faults.EventFeed.Outcome;
import io.nlpstream.faults.PipelineUnderTest;
import io.nlpstream.faults.Tally;
import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.runtime.InferenceException;
import io.nlpstream.topology.BertStage;
import io.nlpstream.topology.EnrichmentTopology;
import io.nlpstream.topology.StreamsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model that fails on some inputs, on the real broker with the real model around it: a
 * {@link TextAnalyzer} decorator makes the real analyzer of the default model.bert throw an
 * {@link InferenceException} for any batch holding a text with a marker, as a native failure of one
 * input fails its whole batch. The marked records must go to the dead-letter topic as
 * {@code inference_error} (stage bert, the model id, the exception class and message, the original
 * bytes; valid against {@code schemas/dead-letter.schema.json}), their batch-mates must still be
 * enriched (the batcher retries a failed batch one record at a time), and records after them flow on.
 */
class FailingModelIT {

  private static final String MARKER = "<<fail-here>>";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path stateDir;

  /** The real analyzer, except that a batch with a marked text fails as a whole. Thread-safe. */
  static final class MarkerFailingAnalyzer implements TextAnalyzer {
    private final TextAnalyzer real;
    private final String modelId;
    final AtomicInteger failedBatches = new AtomicInteger();
    /** Failed batches that also held unmarked texts: the ones whose batch-mates must be saved. */
    final AtomicInteger failedMixedBatches = new AtomicInteger();
    /** Unmarked texts that were in a failed batch. */
    final Map<String, Boolean> cleanTextsInFailedBatches = new ConcurrentHashMap<>();

    MarkerFailingAnalyzer(TextAnalyzer real, String modelId) {
      this.real = real;
      this.modelId = modelId;
    }

    @Override
    public List<Analysis> analyze(List<String> texts) {
      if (texts.stream().anyMatch(t -> t.contains(MARKER))) {
        failedBatches.incrementAndGet();
        List<String> clean = texts.stream().filter(t -> !t.contains(MARKER)).toList();
        if (!clean.isEmpty()) {
          failedMixedBatches.incrementAndGet();
          clean.forEach(t -> cleanTextsInFailedBatches.put(t, true));
        }
        throw new InferenceException(modelId, "model.onnx", "injected failure: a text of the batch carries the marker",
            new IllegalStateException("injected by FailingModelIT"));
      }
      return real.analyze(texts);
    }

    @Override
    public int tokenCount(String text) {
      return real.tokenCount(text);
    }

    @Override
    public Map<String, String> models() {
      return real.models();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  @Test
  void failingRecordsAreDeadLetteredAndTheirBatchMatesEnriched() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      PipelineUnderTest pipeline = new PipelineUnderTest(broker.bootstrapServers(), "failing-model-it", "failing");
      pipeline.createTopics(2);
      Map<String, Object> settings = new HashMap<>(pipeline.serviceSettings(stateDir, 2));
      settings.remove(NlpstreamConfig.METRICS_PORT);
      // Long enough for a burst to gather into a few large batches, so that marked texts share them.
      settings.put(NlpstreamConfig.BATCH_MAX_WAIT_MS, "500");
      NlpstreamConfig config = NlpstreamConfig.load(null, Map.of(), settings);
      String modelId = config.getString(NlpstreamConfig.MODEL_BERT);

      EventFeed.Mix standard = EventFeed.standardMix("fm");
      EventFeed.Mix mix = seq -> {
        if (seq % 6 == 1) {
          String id = "fm-marked-" + seq;
          return new Event(id, EventFeed.json("id", id, "source", "soak",
              "text", "The order from Hamburg " + MARKER + " never arrived (event " + seq + ")."), Outcome.DEAD_LETTER, false);
        }
        return standard.event(seq);
      };

      MarkerFailingAnalyzer analyzer = new MarkerFailingAnalyzer(EnrichmentApp.openAnalyzer(config), modelId);
      try (analyzer;
           BertStage stage = BertStage.start(analyzer, config);
           DeliveryAudit audit = pipeline.audit();
           EventFeed feed = pipeline.feed(mix, audit)) {
        KafkaStreams streams = new KafkaStreams(EnrichmentTopology.create(config, stage),
            StreamsSettings.enrichment(config, stage));
        try {
          streams.start();
          awaitRunning(streams);

          // A burst that batches together, then a second wave after the failures: both must flow.
          feed.send(60);
          Tally first = audit.awaitAccounted(Duration.ofMinutes(2));
          assertThat(first.exact()).as("first wave: %s", first).isTrue();
          feed.send(30);
          Tally tally = audit.awaitAccounted(Duration.ofMinutes(2));
          System.out.printf("FailingModelIT: %s; failed batches %d (with unmarked texts: %d); %s%n", tally,
              analyzer.failedBatches.get(), analyzer.failedMixedBatches.get(), stage.counters().snapshot());

          assertThat(tally.sent()).isEqualTo(90);
          assertThat(tally.exact()).as("%s", tally).isTrue();
          assertThat(streams.state()).as("Kafka Streams keeps running").isEqualTo(KafkaStreams.State.RUNNING);

          // Isolation did happen: marked texts failed batches that held good texts, and those were enriched.
          assertThat(analyzer.failedMixedBatches.get()).as("failed batches that also held unmarked texts").isPositive();
          List<String> enrichedTexts = audit.records(Output.ENRICHED).stream().map(e -> e.path("text").asText()).toList();
          assertThat(enrichedTexts).containsAll(analyzer.cleanTextsInFailedBatches.keySet());

          int marked = 0;
          Schema deadLetterSchema = AbstractEnrichmentPipelineIT.schema("dead-letter.schema.json");
          Schema enrichedSchema = AbstractEnrichmentPipelineIT.schema("enriched-event.schema.json");
          for (JsonNode d : audit.records(Output.DEAD_LETTER)) {
            AbstractEnrichmentPipelineIT.assertValid(deadLetterSchema, d);
            if (!d.path("id").asText().startsWith("fm-marked-")) {
              assertThat(d.path("stage").asText()).as("unmarked dead letter %s", d).isEqualTo("parse");
              continue;
            }
            marked++;
            assertThat(d.path("reason").asText()).isEqualTo("inference_error");
            assertThat(d.path("stage").asText()).isEqualTo("bert");
            assertThat(d.path("model").asText()).isEqualTo(modelId);
            assertThat(d.path("exception").asText()).isEqualTo(InferenceException.class.getName());
            assertThat(d.path("message").asText()).contains("injected failure").contains(modelId);
            assertThat(d.path("source").path("topic").asText()).isEqualTo(pipeline.inputTopic());
            String original = new String(Base64.getDecoder().decode(d.path("value_base64").asText()),
                java.nio.charset.StandardCharsets.UTF_8);
            assertThat(original).contains(MARKER).contains("\"id\":\"" + d.path("id").asText() + "\"");
          }
          assertThat(marked).as("marked records dead-lettered").isEqualTo(15);
          audit.records(Output.ENRICHED).forEach(e -> AbstractEnrichmentPipelineIT.assertValid(enrichedSchema, e));
          assertThat(stage.counters().snapshot().deadLetters()).containsEntry("inference_error", 15L);
        } finally {
          streams.close(Duration.ofSeconds(60));
        }
      }
    }
  }

  private static void awaitRunning(KafkaStreams streams) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (streams.state() != KafkaStreams.State.RUNNING) {
      assertThat(System.nanoTime() - deadline).as("Kafka Streams RUNNING within 2 min (state %s)", streams.state())
          .isNegative();
      Thread.sleep(100);
    }
  }
}
