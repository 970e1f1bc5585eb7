package io.nlpstream.models.gpt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.nlpstream.models.runtime.OrtRuntime;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * The GPT stage as its callers see it: requests in, generations out, decoded with continuous
 * batching by one decoder loop per model.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #submit} tokenizes the prompt on the calling thread and queues the request; it never
 *       blocks. When {@link GeneratorOptions#maxWaiting()} requests already wait it throws
 *       {@link RejectedExecutionException}: backpressure by rejection, so that a Kafka Streams
 *       thread is never parked past {@code max.poll.interval.ms}; the caller keeps the request
 *       (in its state store) and offers it again later.</li>
 *   <li>The returned future completes on the decoding thread (keep callbacks cheap) with a
 *       {@link Generation}; exceptionally with {@link io.nlpstream.models.runtime.InferenceException}
 *       (naming model and file) when the decoder fails, or {@link java.util.concurrent.CancellationException}
 *       when the generator closes first. Cancelling the future retires the sequence at the next step.</li>
 *   <li>Outputs are reproducible: a request's tokens depend on its prompt and {@link DecodingParams}
 *       (seed included) only, not on what else is in the batch.</li>
 *   <li>Thread-safe: any number of threads may submit.</li>
 * </ul>
 * Ownership: whoever opens a generator closes it; {@link #close()} cancels unfinished requests, stops
 * the loop and releases the session and tokenizer it opened. It does not close the
 * {@link OrtEnvironment} or the session options it was given.
 */
public interface Generator extends AutoCloseable {

  /**
   * Queues one request.
   *
   * @throws IllegalArgumentException    when the request cannot fit the model at all (max_new_tokens
   *                                     not below the context, or a template longer than the context)
   * @throws RejectedExecutionException  when the waiting queue is full (try again later)
   * @throws IllegalStateException       when the generator is closed
   */
  CompletableFuture<Generation> submit(GenerationRequest request);

  /**
   * The prompt {@link #submit} would build for this input: sanitized, templated, tokenized and
   * truncated. Cheap (tokenizer only); thread-safe.
   */
  EncodedPrompt prompt(GenerationKind kind, String text, int maxNewTokens);

  /** The model's id (for records and metrics). */
  String modelId();

  /** Tokens of context (prompt + generated) a sequence may use. */
  int contextLength();

  /** Counters since start; a consistent snapshot. */
  GeneratorStats stats();

  /**
   * True until {@link #close()}, unless the decoding loop died (then no request would ever
   * complete, and the generator has closed itself). Cheap; thread-safe (health checks call it).
   */
  boolean isRunning();

  @Override
  void close();

  /**
   * Opens the decoder in {@code modelDir} (Hugging Face layout: {@code config.json},
   * {@code generation_config.json} when present, {@code tokenizer.json}, a decoder-with-past ONNX
   * file) and starts its decoding loop.
   *
   * @param env            the process's ONNX Runtime environment (not closed by the generator)
   * @param sessionOptions options for the one session this generator creates (threads, execution
   *                       provider); the caller keeps ownership and must not close them before
   *                       the generator
   * @throws io.nlpstream.models.runtime.ModelLoadException naming the file that is missing, malformed or
   *                                                        inconsistent with the others
   */
  static Generator open(Path modelDir, OrtEnvironment env, OrtSession.SessionOptions sessionOptions,
                        GeneratorOptions options) {
    return ContinuousBatchingGenerator.open(modelDir, env, sessionOptions, options);
  }

  /**
   * Opens the decoder in {@code modelDir} on the process's {@link OrtRuntime}: its environment,
   * execution provider and intra-op threads. The session options are created for this one session
   * and released once it exists (ONNX Runtime copies them into the session).
   *
   * @throws io.nlpstream.models.runtime.ModelLoadException naming the file that is missing, malformed or
   *                                                        inconsistent with the others, or when the
   *                                                        execution provider cannot be configured
   */
  static Generator open(Path modelDir, OrtRuntime runtime, GeneratorOptions options) {
    try (OrtSession.SessionOptions sessionOptions = runtime.newSessionOptions(modelDir.toString())) {
      return open(modelDir, runtime.environment(), sessionOptions, options);
    }
  }
}
