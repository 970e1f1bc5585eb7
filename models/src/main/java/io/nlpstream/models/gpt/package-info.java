/**
 * The GPT stage's inference runtime: decoder-only causal language models exported to ONNX in the
 * Hugging Face layout, decoded with a KV cache and continuous batching. Knows nothing of Kafka.
 *
 * <h2>Entry points</h2>
 * <pre>{@code
 * Generator generator = Generator.open(modelDir, ortEnvironment, sessionOptions,
 *     GeneratorOptions.builder().templates(PromptTemplates.named("plain")).maxBatchSize(16).build());
 * CompletableFuture<Generation> f = generator.submit(new GenerationRequest(
 *     inputId, GenerationKind.SUMMARY, text, DecodingParams.greedy(64)));
 * }</pre>
 * {@link io.nlpstream.models.gpt.Generator} is the interface the topology calls (and fakes in its
 * unit tests); {@link io.nlpstream.models.gpt.GenerationBench} measures it.
 *
 * <h2>Model directory</h2>
 * {@code config.json} (GPT-2 or Llama/Qwen/Mistral field names), {@code generation_config.json}
 * (optional; EOS ids), {@code tokenizer.json}, and one decoder-with-past ONNX file
 * ({@code model.onnx}, {@code decoder_model_merged.onnx}, {@code decoder_with_past_model.onnx} or the
 * same under {@code onnx/}). The graph's inputs and outputs are checked against {@code config.json}
 * at load (layers, kv heads, head size, vocabulary); any mismatch is a
 * {@link io.nlpstream.models.runtime.ModelLoadException} naming the file. One with-past graph does
 * both prefill (empty past) and decode. {@code position_ids} are fed when the graph takes them
 * (Llama/Qwen exports); GPT-2-style graphs derive positions from the attention mask. fp16 graphs are
 * not supported (rejected at load).
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li><b>Backpressure by rejection.</b> {@code submit} never blocks; a full waiting queue throws
 *       {@link java.util.concurrent.RejectedExecutionException}. A stream thread must not be parked
 *       for the length of a generation (seconds) or it exceeds {@code max.poll.interval.ms}; the GPT
 *       processor keeps requests in its state store anyway and offers them again at the next
 *       punctuation.</li>
 *   <li><b>Token budget reserved at admission.</b> A sequence reserves prompt + max_new_tokens when
 *       it joins, so a running sequence is never evicted or recomputed (no preemption); the queue is
 *       first come first served and the head is never overtaken.</li>
 *   <li><b>Reproducible sampling.</b> Each request has its own seeded random stream, one draw per
 *       token; combined with batch-invariant logits this makes results independent of batch
 *       composition (tested).</li>
 *   <li><b>Prompt templates, not Jinja.</b> Two built-in styles, {@code plain} (base models) and
 *       {@code chatml} (Qwen-style instruct models); any other format is a custom
 *       {@link io.nlpstream.models.gpt.PromptTemplate}. The untrusted input is fenced between
 *       markers the template defines; markers, role tags and the tokenizer's special tokens are
 *       removed from the input.</li>
 *   <li><b>Truncation</b> at token level, of the input only: summaries keep the start of the
 *       article, replies the end of the conversation; flagged in the result.</li>
 *   <li><b>KV cache</b> in caller-owned direct buffers written by ONNX Runtime as pinned outputs and
 *       fed back as the next past: no copy while the batch is unchanged; one re-layout copy when
 *       sequences join or leave.</li>
 * </ul>
 * The ONNX Runtime environment and session options are the caller's, or come from the process's
 * {@link io.nlpstream.models.runtime.OrtRuntime} ({@code Generator.open(dir, runtime, options)}).
 * Bundles of the model catalogue (kind {@code gpt-decoder}, sha256-verified, extracted from the
 * classpath when packaged in a jar) open through
 * {@link io.nlpstream.models.catalog.ModelCatalog#openGenerator}.
 */
package io.nlpstream.models.gpt;
