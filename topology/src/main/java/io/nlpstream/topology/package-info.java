/**
 * The Kafka Streams topologies: the BERT stage (text events in, enriched events, GPT requests and
 * dead letters out; {@link io.nlpstream.topology.EnrichmentTopology}) and the GPT stage (GPT
 * requests in, summaries, replies and dead letters out; {@link io.nlpstream.topology.GenerationTopology}),
 * each run by its own Kafka Streams client.
 *
 * <pre>
 * BertStage stage = BertStage.start(analyzer, config);            // process-wide batcher; not the analyzer's owner
 * Topology topology = EnrichmentTopology.create(config, stage);  // pure: TopologyTestDriver drives the real one
 * Properties props = StreamsSettings.enrichment(config, stage);  // EOS, handlers, counters, kafka.* overrides
 * KafkaStreams streams = new KafkaStreams(topology, props);
 * ...
 * streams.close(...); stage.close(); analyzer.close();           // in this order
 * stage.counters().snapshot();                                    // in / enriched / routed / dead letters by reason
 * </pre>
 *
 * <h2>Why it is built this way</h2>
 * The design follows {@code shared/DESIGN.md} ("Batching inside a Kafka Streams task without losing
 * records") with two choices worth stating:
 * <ul>
 *   <li>Batching is not done per task. Each task hands its texts to one shared
 *       {@link io.nlpstream.models.batch.BatchingQueue} (inside {@link io.nlpstream.topology.BertStage}),
 *       which batches across all tasks and threads by token budget; the task keeps only the
 *       durable buffer and the order. Per-task batches would shrink as partitions grow.</li>
 *   <li>The buffer store keeps the <em>raw input record</em> (coordinates and bytes), not a parsed
 *       or half-built output. It is the smallest durable form, the one a dead letter needs for
 *       replay anyway, and re-parsing it after a restart is cheap and deterministic; a record that
 *       no longer parses under a changed configuration is dead-lettered in its turn.</li>
 * </ul>
 * <pre>
 * GptStage gpt = GptStage.start(generator, config);                 // over the process-wide generator; not its owner
 * Topology generation = GenerationTopology.create(config, gpt);
 * Properties gptProps = StreamsSettings.generation(config, gpt);    // gpt.application.id, its own client
 * </pre>
 * Both stages keep their records in flight in a {@link io.nlpstream.topology.DurableBuffer}; the
 * GPT stage adds an answered store so that no request is generated twice
 * ({@link io.nlpstream.topology.GenerationProcessor}).
 * Durability and order are argued on {@link io.nlpstream.topology.EnrichmentProcessor}; the failure
 * policy is in one place, {@link io.nlpstream.topology.DeadLetterHandler}; record formats are the
 * JSON Schemas in {@code schemas/} (see {@code schemas/README.md}).
 */
package io.nlpstream.topology;
