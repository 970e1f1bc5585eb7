/**
 * The operational surface of an nlpstream process, shared by every stage it runs.
 *
 * <pre>{@code
 * try (Observability ops = Observability.start(config);             // registry + health + HTTP on metrics.port
 *      Pipeline pipeline = Pipeline.start(config, stages, ops)) {   // run --stage bert|gpt|all
 *   // EnrichmentApp.start(config, ops): meters stage=bert, health bert.models, bert.streams
 *   // GenerationApp.start(config, ops): meters stage=gpt,  health gpt.models,  gpt.streams
 *   // each also binds its Kafka Streams client's metrics (consumer lag included), tagged with its stage
 * }
 * }</pre>
 *
 * {@code /ready} is 200 only when every registered component is ready, so one process running both
 * stages is ready when both Kafka Streams clients run and both stages' models are loaded.
 */
package io.nlpstream.ops;
