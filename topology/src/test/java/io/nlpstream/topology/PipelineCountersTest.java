package io.nlpstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nlpstream.topology.PipelineCounters.MeterDoc;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The stage meters live in the registry, read back by the snapshot and rendered for Prometheus. */
class PipelineCountersTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /** Touches every meter of the catalogue once. */
  private static PipelineCounters exercised(PipelineCounters c) {
    c.recordIn();
    c.recordIn();
    c.recordIn();
    c.enriched();
    c.gptRequest();
    c.deadLetter(DeadLetterReason.NOT_JSON, Stage.PARSE);
    c.deadLetter(DeadLetterReason.INFERENCE_ERROR, Stage.BERT);
    c.deadLetter(DeadLetterReason.NOT_JSON, Stage.PARSE);
    c.batch(3, 30, 36, TimeUnit.MILLISECONDS.toNanos(12));
    c.batch(5, 100, 120, TimeUnit.MILLISECONDS.toNanos(40));
    c.forwarded(TimeUnit.MILLISECONDS.toNanos(70));
    c.generatedTokens(17);
    c.modelInfo(Map.of("sentiment", "minilm-heads@1"));
    return c;
  }

  @Test
  void snapshotReadsTheRegistrysMeters() {
    PipelineCounters c = exercised(new PipelineCounters(registry, "bert"));

    PipelineCounters.Snapshot s = c.snapshot();

    assertThat(s.in()).isEqualTo(3);
    assertThat(s.enriched()).isEqualTo(1);
    assertThat(s.gptRequests()).isEqualTo(1);
    assertThat(s.deadLetters()).isEqualTo(Map.of("not_json", 2L, "inference_error", 1L));
    assertThat(s.batches()).isEqualTo(2);
    assertThat(s.batchedItems()).isEqualTo(8);
    assertThat(s.batchedTokens()).isEqualTo(130);
    assertThat(s.paddedTokens()).isEqualTo(156);
    assertThat(s.inferenceNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(52));
    // The same numbers are what the registry holds: one source of truth.
    assertThat(registry.get(PipelineCounters.RECORDS_IN).tag("stage", "bert").counter().count()).isEqualTo(3.0);
    assertThat(registry.get(PipelineCounters.DEAD_LETTERS).tags("reason", "not_json", "step", "parse").counter()
        .count()).isEqualTo(2.0);
  }

  @Test
  void prometheusScrapeHasTheDocumentedFamiliesWithHistogramBuckets() {
    PipelineCounters c = exercised(new PipelineCounters(registry, "bert"));
    AtomicInteger held = new AtomicInteger(4);
    c.trackBuffered(held::get);
    c.trackBuffered(() -> 2);
    c.trackQueued(() -> 9);

    String scrape = registry.scrape();

    assertThat(scrape)
        .contains("nlpstream_records_in_total{stage=\"bert\"} 3.0")
        .contains("nlpstream_records_out_total{output=\"enriched\",stage=\"bert\"} 1.0")
        .contains("nlpstream_records_dead_lettered_total{reason=\"not_json\",stage=\"bert\",step=\"parse\"} 2.0")
        .contains("nlpstream_batch_size_records_bucket{stage=\"bert\",le=\"4.0\"} 1")
        .contains("nlpstream_batch_size_records_bucket{stage=\"bert\",le=\"8.0\"} 2")
        .contains("nlpstream_batch_tokens_bucket{stage=\"bert\",le=\"32.0\"} 1")
        .contains("nlpstream_inference_latency_seconds_bucket{stage=\"bert\",le=\"0.02\"} 1")
        .contains("nlpstream_inference_latency_seconds_count{stage=\"bert\"} 2")
        .contains("nlpstream_stage_latency_seconds_bucket{stage=\"bert\",le=\"0.1\"} 1")
        .contains("nlpstream_buffered_records{stage=\"bert\"} 6.0")
        .contains("nlpstream_batcher_queued_records{stage=\"bert\"} 9.0")
        .contains("nlpstream_generated_tokens_total{stage=\"bert\"} 17.0")
        .contains("nlpstream_model_loaded{model=\"minilm-heads@1\",role=\"sentiment\",stage=\"bert\"} 1.0");
    held.set(0);
    assertThat(registry.scrape()).contains("nlpstream_buffered_records{stage=\"bert\"} 2.0");
  }

  @Test
  void everyRegisteredMeterIsInTheCatalogueAndEveryCatalogueEntryIsRegistered() {
    exercised(new PipelineCounters(registry, "gpt"));

    Map<String, List<Meter>> byName = registry.getMeters().stream()
        .filter(m -> m.getId().getName().startsWith("nlpstream."))
        .collect(Collectors.groupingBy(m -> m.getId().getName()));

    assertThat(byName.keySet()).containsExactlyInAnyOrderElementsOf(
        PipelineCounters.METERS.stream().map(MeterDoc::name).toList());
    for (MeterDoc doc : PipelineCounters.METERS) {
      for (Meter m : byName.get(doc.name())) {
        assertThat(m.getId().getType()).as(doc.name()).isEqualTo(doc.type());
        assertThat(m.getId().getTags().stream().map(Tag::getKey).collect(Collectors.toSet()))
            .as(doc.name()).isEqualTo(Set.copyOf(doc.tags()));
        assertThat(m.getId().getTag(PipelineCounters.STAGE_TAG)).isEqualTo("gpt");
        assertThat(m.getId().getDescription()).isEqualTo(doc.description());
      }
    }
  }

  @Test
  void twoStagesShareOneRegistryAndClosingOneRemovesOnlyItsMeters() {
    PipelineCounters bert = exercised(new PipelineCounters(registry, "bert"));
    PipelineCounters gpt = new PipelineCounters(registry, "gpt");
    gpt.recordIn();
    gpt.generatedTokens(5);

    bert.close();

    assertThat(registry.find(PipelineCounters.RECORDS_IN).tag("stage", "bert").counter()).isNull();
    assertThat(registry.get(PipelineCounters.RECORDS_IN).tag("stage", "gpt").counter().count()).isEqualTo(1.0);
    assertThat(registry.get(PipelineCounters.GENERATED_TOKENS).tag("stage", "gpt").counter().count()).isEqualTo(5.0);
    assertThat(bert.snapshot().in()).as("a closed instance still answers").isEqualTo(3);
  }
}
