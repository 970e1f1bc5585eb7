package io.nlpstream.models.hub;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.catalog.ModelManifest;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Pulls an ONNX export from the Hugging Face Hub into a model catalogue directory (the one {@code
 * model.catalog.dir} names) as a bundle the runtime opens by id:
 * <ol>
 *   <li>resolves the revision to a commit and lists the files at that commit;</li>
 *   <li>chooses the files ({@link FileSelection}): config, tokenizer, one ONNX graph and its
 *       external data;</li>
 *   <li>removes the bundle's {@code model.json}, so that the bundle is out of the catalogue while
 *       its files change;</li>
 *   <li>downloads each file into {@code <catalog>/<id>/<path in the repo>} ({@link
 *       HubClient#download}: resumable, verified), smallest first, deciding the kind from {@code
 *       config.json} before the graph is fetched; transfers that break are retried, resuming;</li>
 *   <li>writes {@code model.json} last ({@link PulledManifest}) and reads it back through {@link
 *       ModelCatalog}.</li>
 * </ol>
 * A failed pull therefore leaves no catalogue entry, and running it again resumes it. Two pulls
 * of the same id exclude each other with a file lock ({@code <catalog>/<id>/.pull.lock}).
 *
 * <p>Nothing here runs at service start-up: the runtime never downloads.
 */
public final class ModelPull {

  private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final String MANIFEST = "model.json";

  /**
   * What to pull.
   *
   * @param repo         repository id, {@code owner/name}
   * @param revision     branch, tag or commit; {@code main} by default
   * @param id           catalogue id; empty = {@link #defaultId}
   * @param variant      ONNX variant ({@code q4}, {@code int8}, {@code fp16}, ...; see {@link FileSelection})
   * @param includes     globs that replace the default file choice
   * @param kind         catalogue kind; empty = from {@code config.json architectures}
   * @param retries      further tries of a request or transfer that failed in a way that may pass
   * @param retryBackoff wait before the first retry, doubled for each next one
   */
  public record Options(String repo, String revision, Optional<String> id, Optional<String> variant,
                        List<String> includes, Optional<String> kind, int retries, Duration retryBackoff) {

    public Options {
      HubClient.checkRepoId(repo);
      Objects.requireNonNull(revision, "revision");
      if (revision.isBlank()) {
        throw new IllegalArgumentException("revision must not be blank");
      }
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(variant, "variant");
      includes = List.copyOf(includes);
      Objects.requireNonNull(kind, "kind");
      if (kind.isPresent() && !ModelManifest.KINDS.contains(kind.get())) {
        throw new IllegalArgumentException("kind must be one of " + pullableKinds() + ", was " + kind.get());
      }
      if (kind.isPresent() && ModelManifest.BERT_MULTIHEAD.equals(kind.get())) {
        throw new IllegalArgumentException("kind " + kind.get() + " is nlpstream's own bundle form, not a Hub export;"
            + " one of " + pullableKinds());
      }
      if (retries < 0) {
        throw new IllegalArgumentException("retries must be >= 0, was " + retries);
      }
      Objects.requireNonNull(retryBackoff, "retryBackoff");
      id.ifPresent(ModelPull::checkModelId);
    }

    /** {@code repo} at {@code main}, default choice of files, 3 retries from 1 s. */
    public static Options of(String repo) {
      return new Options(repo, "main", Optional.empty(), Optional.empty(), List.of(), Optional.empty(), 3,
          Duration.ofSeconds(1));
    }

    public Options withRevision(String r) {
      return new Options(repo, r, id, variant, includes, kind, retries, retryBackoff);
    }

    public Options withId(String i) {
      return new Options(repo, revision, Optional.of(i), variant, includes, kind, retries, retryBackoff);
    }

    public Options withVariant(String v) {
      return new Options(repo, revision, id, Optional.of(v), includes, kind, retries, retryBackoff);
    }

    public Options withIncludes(List<String> globs) {
      return new Options(repo, revision, id, variant, globs, kind, retries, retryBackoff);
    }

    public Options withRetries(int n, Duration backoff) {
      return new Options(repo, revision, id, variant, includes, kind, n, backoff);
    }

    /** The catalogue id: {@link #id} or {@link #defaultId}. */
    public String modelId() {
      return id.orElseGet(() -> defaultId(repo, variant));
    }
  }

  /** The kinds a pull can write. */
  public static List<String> pullableKinds() {
    return ModelManifest.KINDS.stream().filter(k -> !ModelManifest.BERT_MULTIHEAD.equals(k)).toList();
  }

  /**
   * The catalogue id of a pulled repository: {@code owner/name} becomes {@code owner--name} (as in
   * the Hugging Face cache), and a variant other than fp32 is appended ({@code -q4}), so that
   * several variants can sit side by side.
   */
  public static String defaultId(String repo, Optional<String> variant) {
    String id = HubClient.checkRepoId(repo).replace("/", "--")
        + variant.filter(v -> !v.equals("fp32")).map(v -> "-" + v).orElse("");
    return checkModelId(id);
  }

  private static String checkModelId(String id) {
    if (!MODEL_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a valid model id (letters, digits, '.', '_', '-'): " + id);
    }
    return id;
  }

  /**
   * A pulled bundle.
   *
   * @param id         its catalogue id
   * @param dir        its directory, {@code <catalog>/<id>}
   * @param kind       its catalogue kind
   * @param commit     the commit its files are from
   * @param graph      repository path of its ONNX graph
   * @param files      every file, in download order
   * @param downloaded bytes received over the network
   * @param total      bytes of all its files
   */
  public record Result(String id, Path dir, String kind, String repo, String revision, String commit, String graph,
                       List<Downloaded> files, long downloaded, long total) {

    /** Configuration settings that make the pipeline use this bundle, e.g. {@code gpt.model=<id>}. */
    public List<String> settings(Path catalog) {
      String dirSetting = "model.catalog.dir=" + catalog.toAbsolutePath().normalize();
      return switch (kind) {
        case ModelManifest.GPT_DECODER -> List.of(dirSetting, "gpt.model=" + id);
        case ModelManifest.HF_TOKEN_CLASSIFICATION -> List.of(dirSetting, "model.entities=" + id);
        default -> List.of(dirSetting, "model.sentiment=" + id + " (or model.classes=" + id + ")");
      };
    }
  }

  private final HubClient hub;
  private final PullListener listener;

  /** @param hub used, not owned */
  public ModelPull(HubClient hub, PullListener listener) {
    this.hub = Objects.requireNonNull(hub, "hub");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * Pulls {@code options.repo()} into {@code catalog}.
   *
   * @throws HubException naming the repository, revision or file that failed; the bundle is then
   *                      not in the catalogue and a rerun resumes
   */
  public Result pull(Path catalog, Options options) {
    String repo = options.repo();
    String id = options.modelId();
    String commit = withRetries(options, "resolving " + repo + "@" + options.revision(),
        () -> hub.commit(repo, options.revision()));
    List<RepoFile> listed = withRetries(options, "listing " + repo, () -> hub.files(repo, commit));
    FileSelection.Selection selection = FileSelection.select(repo, listed, options.variant(), options.includes());
    listener.selected(repo, commit, selection.files());
    Path dir = catalog.toAbsolutePath().normalize().resolve(id);
    try {
      Files.createDirectories(dir);
      try (FileChannel lockFile = FileChannel.open(dir.resolve(".pull.lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock lock = lockFile.tryLock()) {
        if (lock == null) {
          throw new HubException(dir + ": another pull is writing this bundle");
        }
        Files.deleteIfExists(dir.resolve(MANIFEST));
        checkSpace(dir, selection.files());
        return pullFiles(catalog, dir, id, commit, selection, options);
      }
    } catch (IOException e) {
      throw new HubException(dir + ": " + e.getMessage(), 0, false, e);
    }
  }

  private Result pullFiles(Path catalog, Path dir, String id, String commit, FileSelection.Selection selection,
                           Options options) throws IOException {
    String repo = options.repo();
    Map<String, Downloaded> done = new LinkedHashMap<>();
    String kind = options.kind().orElse(null);
    long downloaded = 0;
    long total = 0;
    for (RepoFile file : selection.files()) {
      if (kind == null && (file.equals(selection.graph()) || selection.externalData().contains(file))) {
        // Decide before the large files: a repository nlpstream cannot run fails now.
        kind = PulledManifest.kind(repo, readJson(repo, done, "config.json")
            .orElseThrow(() -> new HubException(repo + ": config.json was not pulled (the repository has none at its"
                + " root, or --include left it out); give --kind to pull without it")));
        warnAboutGraph(kind, selection.graph(), options);
      }
      Path target = dir.resolve(file.path()).normalize();
      if (!target.startsWith(dir)) {
        throw new HubException(repo + ": file path " + file.path() + " leaves the bundle directory");
      }
      Downloaded d = withRetries(options, "downloading " + file.path(),
          () -> hub.download(repo, commit, file, target, present -> listener.progress(file, present)));
      listener.done(d);
      done.put(file.path(), d);
      downloaded += d.transferred();
      total += file.size();
    }
    Optional<String> prompt = ModelManifest.GPT_DECODER.equals(kind)
        ? Optional.of(PulledManifest.promptStyle(readJson(repo, done, "tokenizer_config.json")))
        : Optional.empty();
    PulledManifest.Source source = new PulledManifest.Source(hub.endpoint().toString(), repo, options.revision(), commit);
    Path manifest = PulledManifest.write(dir, PulledManifest.build(id, kind, source, selection.graph().path(), done,
        prompt));
    try {
      ModelCatalog.open(Optional.of(catalog)).manifest(id);
    } catch (ModelLoadException e) {
      Files.deleteIfExists(manifest);
      throw new HubException(repo + ": the written " + manifest + " is not a valid catalogue entry: " + e.getMessage(),
          0, false, e);
    }
    return new Result(id, dir, kind, repo, options.revision(), commit, selection.graph().path(),
        List.copyOf(done.values()), downloaded, total);
  }

  private void warnAboutGraph(String kind, RepoFile graph, Options options) {
    if (ModelManifest.GPT_DECODER.equals(kind) && options.variant().map(v -> v.contains("f16")).orElse(false)) {
      listener.note("note: " + graph.path() + " is an fp16 graph; the GPT runtime rejects fp16 graphs at load"
          + " (choose q4, int8 or fp32)");
    }
  }

  private static Optional<JsonNode> readJson(String repo, Map<String, Downloaded> done, String path) {
    Downloaded d = done.get(path);
    if (d == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(PulledManifest.JSON.readTree(d.path().toFile()));
    } catch (IOException e) {
      throw new HubException(repo + ": " + path + " is not valid JSON: " + e.getMessage(), 0, false, e);
    }
  }

  private static void checkSpace(Path dir, List<RepoFile> files) throws IOException {
    long needed = 0;
    for (RepoFile f : files) {
      Path target = dir.resolve(f.path());
      Path part = target.resolveSibling(target.getFileName() + ".part");
      long present = Files.isRegularFile(target) ? Files.size(target) : Files.isRegularFile(part) ? Files.size(part) : 0;
      needed += Math.max(0, f.size() - present);
    }
    long usable = Files.getFileStore(dir).getUsableSpace();
    if (needed > usable) {
      throw new HubException(dir + ": the pull needs " + needed + " more bytes, the file system has " + usable
          + " usable");
    }
  }

  private <T> T withRetries(Options options, String what, Supplier<T> action) {
    for (int attempt = 0; ; attempt++) {
      try {
        return action.get();
      } catch (HubException e) {
        if (!e.retryable() || attempt >= options.retries()) {
          throw e;
        }
        long wait = options.retryBackoff().toMillis() << Math.min(attempt, 10);
        listener.note("retry " + (attempt + 1) + "/" + options.retries() + " of " + what + " in " + wait + " ms: "
            + e.getMessage());
        try {
          Thread.sleep(wait);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          e.addSuppressed(interrupted);
          throw e;
        }
      }
    }
  }
}
