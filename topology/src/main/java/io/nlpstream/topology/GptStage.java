package io.nlpstream.topology;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.gpt.DecoderCallListener;
import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.gpt.PromptTemplate;
import io.nlpstream.models.gpt.PromptTemplates;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.apache.kafka.common.config.ConfigException;

/**
 * The process-wide part of the GPT stage: the {@link Generator} every GPT stream task submits to
 * (one decoding loop with continuous batching, so requests of all partitions share its batch), the
 * decoding parameters of each kind, and the stage's {@link GenerationCounters} (its meters,
 * {@code stage=gpt}, in the process's registry).
 *
 * <p>Ownership: the stage owns its counters and closes them (their meters leave the registry); it
 * does <em>not</em> own the generator, which its creator closes after closing the Kafka Streams
 * client and then the stage. Thread-safe.
 */
public final class GptStage implements AutoCloseable {

  /** The stage's name: the {@code stage} tag of its meters, the prefix of its health components. */
  public static final String NAME = PipelineCounters.GPT;

  private final Generator generator;
  private final Map<Task, DecodingParams> params;
  private final long seed;
  private final GenerationCounters counters;
  private volatile boolean closed;

  private GptStage(Generator generator, Map<Task, DecodingParams> params, long seed, GenerationCounters counters) {
    this.generator = generator;
    this.params = params;
    this.seed = seed;
    this.counters = counters;
    counters.meters().trackQueued(() -> generator.stats().waiting());
    counters.meters().trackRunning(() -> generator.stats().running());
    counters.meters().modelInfo(Map.of("generator", generator.modelId()));
  }

  /**
   * {@link #start(Generator, NlpstreamConfig, GenerationCounters)} with meters in a registry of their
   * own (tests, tools that read {@link GenerationCounters#snapshot()} only).
   */
  public static GptStage start(Generator generator, NlpstreamConfig config) {
    return start(generator, config, new GenerationCounters());
  }

  /**
   * A stage over {@code generator} with the decoding parameters of the {@code gpt.*} keys, counting
   * into {@code counters} (which it then owns; give the same instance to the generator as its
   * {@link io.nlpstream.models.gpt.DecoderCallListener} for the batch and inference meters). Adds
   * the queued-requests and running-sequences gauges and the model's info to them.
   *
   * @throws ConfigException naming the key when a max_new_tokens leaves no room for a prompt in the
   *                         generator's context, or a stop string is empty
   */
  public static GptStage start(Generator generator, NlpstreamConfig config, GenerationCounters counters) {
    Objects.requireNonNull(generator, "generator");
    Objects.requireNonNull(counters, "counters");
    Map<Task, DecodingParams> params = new EnumMap<>(Task.class);
    for (Task kind : Task.values()) {
      String key = maxNewTokensKey(kind);
      int maxNew = config.getInt(key);
      if (maxNew >= generator.contextLength()) {
        throw new ConfigException(key, maxNew, "must be below the context of model " + generator.modelId() + " ("
            + generator.contextLength() + " tokens), which also holds the prompt");
      }
      params.put(kind, decodingParams(config, maxNew));
    }
    return new GptStage(generator, params, config.getLong(NlpstreamConfig.GPT_SEED), counters);
  }

  static String maxNewTokensKey(Task kind) {
    return kind == Task.SUMMARY ? NlpstreamConfig.GPT_MAX_NEW_TOKENS_SUMMARY : NlpstreamConfig.GPT_MAX_NEW_TOKENS_REPLY;
  }

  private static DecodingParams decodingParams(NlpstreamConfig config, int maxNew) {
    List<String> stops = config.getList(NlpstreamConfig.GPT_STOP_STRINGS).stream().filter(s -> !s.isEmpty()).toList();
    double temperature = config.getDouble(NlpstreamConfig.GPT_TEMPERATURE);
    DecodingParams p = temperature == 0 ? DecodingParams.greedy(maxNew)
        : DecodingParams.sampling(maxNew, temperature, config.getInt(NlpstreamConfig.GPT_TOP_K),
            config.getDouble(NlpstreamConfig.GPT_TOP_P), 0);
    return p.withStopStrings(stops);
  }

  /**
   * The generator settings of the {@code gpt.*} keys: batch size and token budget, queue size, and
   * the prompt templates (style {@code gpt.prompt.style}, else {@code bundleStyle}, else plain;
   * custom templates per kind).
   *
   * @param bundleStyle the prompt style the model's bundle names, or null
   * @throws ConfigException naming the key of a bad template
   */
  public static GeneratorOptions generatorOptions(NlpstreamConfig config, String bundleStyle) {
    return generatorOptions(config, bundleStyle, DecoderCallListener.NONE);
  }

  /**
   * {@link #generatorOptions(NlpstreamConfig, String)} with a listener told about every decoder call
   * (the stage's {@link GenerationCounters}).
   */
  public static GeneratorOptions generatorOptions(NlpstreamConfig config, String bundleStyle,
                                                  DecoderCallListener listener) {
    String style = config.getString(NlpstreamConfig.GPT_PROMPT_STYLE);
    if (style.isEmpty()) {
      style = bundleStyle == null ? "plain" : bundleStyle;
    }
    PromptTemplates templates = PromptTemplates.named(style);
    templates = custom(templates, GenerationKind.SUMMARY, config, NlpstreamConfig.GPT_TEMPLATE_SUMMARY,
        PromptTemplate.Keep.START);
    templates = custom(templates, GenerationKind.REPLY, config, NlpstreamConfig.GPT_TEMPLATE_REPLY,
        PromptTemplate.Keep.END);
    return GeneratorOptions.builder()
        .templates(templates)
        .maxBatchSize(config.getInt(NlpstreamConfig.GPT_MAX_BATCH_SIZE))
        .maxBatchTokens(config.getInt(NlpstreamConfig.GPT_MAX_BATCH_TOKENS))
        .maxWaiting(config.getInt(NlpstreamConfig.GPT_MAX_QUEUED))
        .listener(listener)
        .build();
  }

  private static PromptTemplates custom(PromptTemplates templates, GenerationKind kind, NlpstreamConfig config,
                                        String key, PromptTemplate.Keep keep) {
    String text = config.getString(key);
    if (text.isEmpty()) {
      return templates;
    }
    try {
      return templates.with(kind, new PromptTemplate(text, List.of(), keep, templates.forKind(kind).stopStrings()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, text, e.getMessage());
    }
  }

  /**
   * Submits one request to the generator; never blocks.
   *
   * @throws RejectedExecutionException when the generator's queue is full: offer it again later
   * @throws IllegalArgumentException   when the request cannot fit the model at all
   * @throws GptStageClosedException    when the stage or its generator is closed
   */
  public CompletableFuture<Generation> submit(GenerationInput input) {
    if (closed) {
      throw new GptStageClosedException("GPT stage (model " + generator.modelId() + ") is closed");
    }
    DecodingParams p = params.get(input.kind());
    if (!p.isGreedy()) {
      p = new DecodingParams(p.maxNewTokens(), p.stopStrings(), p.temperature(), p.topK(), p.topP(),
          seed ^ stableHash(input.inputId()));
    }
    GenerationKind kind = GenerationKind.fromWireName(input.kind().code());
    try {
      return generator.submit(new GenerationRequest(input.inputId(), kind, input.text(), p));
    } catch (RejectedExecutionException e) {
      counters.refusedOffer();
      throw e;
    } catch (IllegalStateException e) {
      throw new GptStageClosedException("generator " + generator.modelId() + " is closed: " + e.getMessage());
    }
  }

  /** A hash of the input id that is the same in every JVM and every run (a request's sampling seed). */
  static long stableHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(d).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM lacks SHA-256", e);
    }
  }

  /** Decoding parameters of {@code kind} (seed: the configured one; each request's is derived from it). */
  public DecodingParams params(Task kind) {
    return params.get(kind);
  }

  /** The generator's model id ({@code <id>@<version>} for catalogue models). */
  public String modelId() {
    return generator.modelId();
  }

  public Generator generator() {
    return generator;
  }

  public GenerationCounters counters() {
    return counters;
  }

  /** True until {@link #close()}, while the generator's decoding loop runs. */
  public boolean isRunning() {
    return !closed && generator.isRunning();
  }

  /**
   * Refuses further submissions and removes the stage's meters from the registry; the generator
   * stays open (its creator closes it). Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    counters.close();
  }

  @Override
  public String toString() {
    return "GptStage[" + generator.modelId() + "]";
  }
}
