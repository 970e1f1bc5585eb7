package io.nlpstream.models.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.util.Objects;

/**
 * The process's ONNX Runtime: the one {@link OrtEnvironment} and the session settings every
 * {@link ModelSession} is created with.
 *
 * <p>Session settings: intra-op threads as configured ({@code 0} = {@link
 * Runtime#availableProcessors()}), one inter-op thread, sequential execution, all graph
 * optimisations. Each session owns an intra-op pool of that size; callers run one inference at a
 * time (see {@link io.nlpstream.models.bert.BertAnalyzer}) so that the pools never compete for the
 * same cores.
 *
 * <p>With {@link ExecutionProvider#CUDA}, {@link #create} registers the CUDA provider once right
 * away, so a build or machine without CUDA fails at start-up, not at the first record.
 *
 * <p>Thread-safe and immutable. It holds no native resource of its own (ONNX Runtime's environment
 * lives as long as the process), so it is not closeable; the sessions it creates are.
 */
public final class OrtRuntime {

  /**
   * @param provider       execution provider
   * @param cudaDevice     CUDA device ordinal, used with {@link ExecutionProvider#CUDA} only
   * @param intraOpThreads threads per session for one operator; {@code 0} = available processors
   */
  public record Options(ExecutionProvider provider, int cudaDevice, int intraOpThreads) {

    public Options {
      Objects.requireNonNull(provider, "provider");
      if (cudaDevice < 0) {
        throw new IllegalArgumentException("cudaDevice must be >= 0, was " + cudaDevice);
      }
      if (intraOpThreads < 0) {
        throw new IllegalArgumentException("intraOpThreads must be >= 0 (0 = available processors), was "
            + intraOpThreads);
      }
    }

    /** CPU with one intra-op thread per available processor. */
    public static Options cpu() {
      return new Options(ExecutionProvider.CPU, 0, 0);
    }
  }

  private final OrtEnvironment environment;
  private final Options options;
  private final int intraOpThreads;

  private OrtRuntime(OrtEnvironment environment, Options options) {
    this.environment = environment;
    this.options = options;
    this.intraOpThreads = options.intraOpThreads() == 0
        ? Runtime.getRuntime().availableProcessors()
        : options.intraOpThreads();
  }

  /**
   * Returns a runtime on the process's ONNX Runtime environment.
   *
   * @throws ModelLoadException if the execution provider cannot be used here (CUDA requested on a
   *                            CPU-only build or a machine without a CUDA device)
   */
  public static OrtRuntime create(Options options) {
    Objects.requireNonNull(options, "options");
    OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "nlpstream");
    OrtRuntime runtime = new OrtRuntime(env, options);
    if (options.provider() == ExecutionProvider.CUDA) {
      // Probe now: the CPU build only fails once a session is configured.
      runtime.newSessionOptions("onnxruntime " + env.getVersion()).close();
    }
    return runtime;
  }

  public Options options() {
    return options;
  }

  /** Intra-op threads each session uses (the configured value, or the processor count for 0). */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** ONNX Runtime's version, e.g. {@code 1.23.2}. */
  public String version() {
    return environment.getVersion();
  }

  /**
   * The process's ONNX Runtime environment, for code that creates sessions itself (the GPT
   * decoder); ONNX Runtime owns it, nobody closes it.
   */
  public OrtEnvironment environment() {
    return environment;
  }

  /**
   * New session options with this runtime's settings; the caller closes them once the session is
   * created (a session keeps its own copy).
   *
   * @param file the model file the options are for, named in the exception if the provider fails
   * @throws ModelLoadException if the execution provider cannot be configured
   */
  public OrtSession.SessionOptions newSessionOptions(String file) {
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    try {
      so.setIntraOpNumThreads(intraOpThreads);
      so.setInterOpNumThreads(1);
      so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    } catch (OrtException e) {
      so.close();
      throw new ModelLoadException(file, "cannot configure the ONNX Runtime session: " + e.getMessage(), e);
    }
    if (options.provider() == ExecutionProvider.CUDA) {
      try {
        so.addCUDA(options.cudaDevice());
      } catch (OrtException e) {
        so.close();
        throw new ModelLoadException(file, "inference.provider=cuda needs the GPU build of ONNX Runtime"
            + " (build with mvn -Pgpu, artefact onnxruntime_gpu) and a CUDA device (device "
            + options.cudaDevice() + "); this is ONNX Runtime " + environment.getVersion()
            + " with providers " + OrtEnvironment.getAvailableProviders() + ": " + e.getMessage(), e);
      }
    }
    return so;
  }
}
