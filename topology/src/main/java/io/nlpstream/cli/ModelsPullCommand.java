package io.nlpstream.cli;

import io.nlpstream.models.hub.Downloaded;
import io.nlpstream.models.hub.HubClient;
import io.nlpstream.models.hub.ModelPull;
import io.nlpstream.models.hub.PullListener;
import io.nlpstream.models.hub.RepoFile;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code nlpstream models pull REPO}: downloads an ONNX export from the Hugging Face Hub into the
 * model catalogue ({@link ModelPull}). Progress goes to stderr; stdout gets one summary line with
 * the settings that select the model. The token comes from {@code HF_TOKEN} only (never from the
 * command line, where other users can read it) and is never printed.
 */
@Command(name = "pull", mixinStandardHelpOptions = true,
    description = {"Downloads an ONNX export from the Hugging Face Hub into the model catalogue (resumable,"
        + " checksums verified) and writes its model.json; prints the settings that select it.",
        "Takes config.json, generation_config.json, tokenizer.json, tokenizer_config.json,"
            + " special_tokens_map.json and one graph: onnx/decoder_model_merged.onnx, else onnx/model.onnx (else the"
            + " same at the root), with its .onnx_data. Private or gated repositories: set HF_TOKEN."})
final class ModelsPullCommand implements Callable<Integer> {

  /** Environment variable of the Hub token. */
  static final String TOKEN_VARIABLE = "HF_TOKEN";
  /** Environment variable of the Hub endpoint. */
  static final String ENDPOINT_VARIABLE = "HF_ENDPOINT";

  @Spec
  CommandSpec spec;

  @Mixin
  ConfigOptions configOptions;

  @Parameters(index = "0", paramLabel = "REPO",
      description = "Hugging Face repository id, owner/name (e.g. onnx-community/Qwen2.5-0.5B-Instruct).")
  String repo;

  @Option(names = "--revision", paramLabel = "R", defaultValue = "main",
      description = "Branch, tag or commit (default: ${DEFAULT-VALUE}). Pulled at the commit it names then.")
  String revision;

  @Option(names = "--id", paramLabel = "ID",
      description = "Catalogue id (default: owner--name, plus -VARIANT with --variant).")
  String id;

  @Option(names = "--catalog", paramLabel = "DIR",
      description = "Catalogue directory (default: model.catalog.dir of the configuration, else"
          + " $XDG_CACHE_HOME/nlpstream/catalog, i.e. ~/.cache/nlpstream/catalog).")
  Path catalog;

  @Option(names = "--endpoint", paramLabel = "URL",
      description = "Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co).")
  URI endpoint;

  @Option(names = "--variant", paramLabel = "V",
      description = "ONNX variant: fp32, fp16, int8, uint8, q8, q4, q4f16, bnb4 (onnx/model_q4.onnx, ...);"
          + " another name V means the file suffix _V.")
  String variant;

  @Option(names = "--include", paramLabel = "GLOB",
      description = "Download exactly the files matching GLOB (repeatable; '*' within a directory, '**' across)"
          + " instead of the default choice.")
  List<String> includes = new ArrayList<>();

  @Option(names = "--kind", paramLabel = "KIND",
      description = "Catalogue kind (default: from config.json architectures): gpt-decoder,"
          + " hf-sequence-classification, hf-token-classification.")
  String kind;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "3",
      description = "Tries again after a broken or stalled transfer, resuming (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--stall-timeout", paramLabel = "S", defaultValue = "60",
      description = "Seconds without data after which a transfer is abandoned and retried (default: ${DEFAULT-VALUE}).")
  long stallSeconds;

  private final Map<String, String> env;

  ModelsPullCommand() {
    this(System.getenv());
  }

  /** @param env the environment to read HF_TOKEN, HF_ENDPOINT and XDG_CACHE_HOME from (tests pass their own) */
  ModelsPullCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ModelPull.Options options;
    try {
      options = new ModelPull.Options(repo, revision, Optional.ofNullable(id), Optional.ofNullable(variant), includes,
          Optional.ofNullable(kind), retries, Duration.ofSeconds(1));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (stallSeconds < 1) {
      throw new ParameterException(spec.commandLine(), "--stall-timeout must be at least 1 second");
    }
    Path dir = ModelsCommand.catalogDir(catalog, configOptions, env);
    URI hubEndpoint = endpoint != null ? endpoint
        : URI.create(env.getOrDefault(ENDPOINT_VARIABLE, "").isBlank() ? HubClient.DEFAULT_ENDPOINT.toString()
            : env.get(ENDPOINT_VARIABLE).strip());
    Optional<String> token = Optional.ofNullable(env.get(TOKEN_VARIABLE)).filter(t -> !t.isBlank());
    HubClient hub;
    try {
      hub = new HubClient(hubEndpoint, token, Duration.ofSeconds(stallSeconds));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--endpoint / " + ENDPOINT_VARIABLE + ": " + e.getMessage());
    }
    ModelPull.Result result;
    try (hub) {
      err.println("Pulling " + repo + "@" + revision + " from " + hub.endpoint() + (hub.hasToken() ? " (with HF_TOKEN)" : "")
          + " into " + dir.resolve(options.modelId()));
      result = new ModelPull(hub, new Progress(err, System.console() != null)).pull(dir, options);
    }
    out.println("pulled " + repo + "@" + revision + " (commit " + result.commit() + ") as " + result.id() + ": "
        + result.kind() + ", " + result.graph() + ", " + result.files().size() + " files, " + size(result.total())
        + " (" + size(result.downloaded()) + " downloaded) in " + result.dir() + "; select it with "
        + String.join(" ", result.settings(dir)));
    out.flush();
    return 0;
  }

  static String size(long bytes) {
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
  }

  /**
   * Progress on stderr: on a terminal one line per file rewritten in place, otherwise a line per file
   * at most every 5 s, and one when it is done.
   */
  private static final class Progress implements PullListener {
    private final PrintWriter err;
    private final boolean terminal;
    private long lastPrint;

    Progress(PrintWriter err, boolean terminal) {
      this.err = err;
      this.terminal = terminal;
    }

    @Override
    public void selected(String repo, String commit, List<RepoFile> files) {
      long total = files.stream().mapToLong(RepoFile::size).sum();
      err.println("  commit " + commit + ": " + files.size() + " files, " + size(total));
      err.flush();
    }

    @Override
    public void progress(RepoFile file, long present) {
      long now = System.nanoTime();
      if (present < file.size() && now - lastPrint < (terminal ? 200_000_000L : 5_000_000_000L)) {
        return;
      }
      lastPrint = now;
      String line = String.format(Locale.ROOT, "  %s: %s of %s (%d%%)", file.path(), size(present), size(file.size()),
          file.size() == 0 ? 100 : present * 100 / file.size());
      if (terminal) {
        err.print("\r" + line + "\033[K");
      } else if (present < file.size()) {
        err.println(line);
      }
      err.flush();
    }

    @Override
    public void done(Downloaded d) {
      String how = d.upToDate() ? "already in place, verified"
          : d.resumedFrom() > 0 ? "verified, resumed from " + size(d.resumedFrom()) : "verified";
      err.println((terminal ? "\r" : "") + "  " + d.file().path() + ": " + size(d.file().size()) + " (" + how + ")"
          + (terminal ? "\033[K" : ""));
      err.flush();
    }

    @Override
    public void note(String message) {
      err.println((terminal ? "\r" : "") + "  " + message);
      err.flush();
    }
  }
}
