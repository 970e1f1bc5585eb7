/**
 * The operational surface of an nlpstream process, shared by every stage it runs.
 *
 * <pre>{@code
 * try (Observability ops = Observability.start(config)) {            // registry + health + HTTP on metrics.port
 *   EnrichmentApp bert = EnrichmentApp.start(config, ops);            // meters stage=bert, health bert.models, bert.streams
 *   // a GPT stage plugs in the same way: new PipelineCounters(ops.registry(), "gpt") for its meters
 *   // (generatedTokens(n) for tokens/s), ops.health().register("gpt.models", ...) and
 *   // ops.health().register("gpt.streams", new StreamsHealthCheck(streams, appId)), and
 *   // new KafkaStreamsMetrics(streams, Tags.of("stage", "gpt")).bindTo(ops.registry()).
 * }
 * }</pre>
 *
 * {@code /ready} is 200 only when every registered component is ready, so one process running both
 * stages is ready when both Kafka Streams clients run and both stages' models are loaded.
 */
package io.nlpstream.ops;
