package io.nlpstream.models.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client of the Hugging Face Hub's HTTP API, for model repositories:
 * <ul>
 *   <li>{@link #commit}: {@code GET {endpoint}/api/models/{repo}/revision/{revision}}, the commit
 *       sha a branch, tag or sha names (field {@code sha}); everything else is read at that commit,
 *       so that a branch moving during a pull cannot mix two versions.</li>
 *   <li>{@link #files}: {@code GET {endpoint}/api/models/{repo}/tree/{commit}?recursive=true},
 *       following {@code Link: <...>; rel="next"} pages.</li>
 *   <li>{@link #download}: {@code GET {endpoint}/{repo}/resolve/{commit}/{path}}, following
 *       redirects (LFS files are served by a CDN on another host), into {@code <file>.part},
 *       resumed with {@code Range: bytes=<part size>-} when a {@code .part} exists, verified, then
 *       moved to the final name atomically.</li>
 * </ul>
 * Redirects are followed here rather than by {@link HttpClient} so that the token ({@code
 * Authorization: Bearer}) goes only to the endpoint's own origin (scheme, host and port), never to
 * the CDN the Hub redirects to. The token appears in no message, log line or {@link #toString()}.
 *
 * <p>Checksums: an LFS file's content must have the sha256 the tree lists as {@code lfs.oid}; a
 * file stored in git must have the git blob sha1 listed as {@code oid}; both must have the listed
 * size. The sha256 of every file is computed on the way (what {@code model.json} records).
 *
 * <p>A transfer that receives nothing for {@code stallTimeout} is aborted (the JDK client has no
 * read timeout of its own): a watchdog thread interrupts the reading thread.
 *
 * <p>Thread-safe. Owns a watchdog thread: close the client when done.
 */
public final class HubClient implements AutoCloseable {

  /** The public Hub. */
  public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
  /** Default of how long a transfer may receive nothing before it is aborted. */
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(60);

  private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
  private static final int MAX_REDIRECTS = 10;
  private static final int BUFFER_BYTES = 1 << 16;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI endpoint;
  private final Optional<String> token;
  private final Duration stallTimeout;
  private final HttpClient http;
  private final ScheduledExecutorService watchdog;

  /**
   * @param endpoint     the Hub's base URL, e.g. {@link #DEFAULT_ENDPOINT} or a mirror
   * @param token        access token for private and gated repositories, sent only to {@code endpoint}'s origin
   * @param stallTimeout how long a request may wait for its headers, and a transfer receive nothing, before it fails
   */
  public HubClient(URI endpoint, Optional<String> token, Duration stallTimeout) {
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(stallTimeout, "stallTimeout");
    if (endpoint.getScheme() == null || !List.of("http", "https").contains(endpoint.getScheme().toLowerCase(Locale.ROOT))
        || endpoint.getHost() == null) {
      throw new IllegalArgumentException("Hub endpoint must be an http(s) URL with a host, was " + endpoint);
    }
    if (stallTimeout.isNegative() || stallTimeout.isZero()) {
      throw new IllegalArgumentException("stall timeout must be positive, was " + stallTimeout);
    }
    String base = endpoint.toString();
    this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
    this.token = token.filter(t -> !t.isBlank()).map(String::strip);
    this.stallTimeout = stallTimeout;
    this.http = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(stallTimeout)
        .build();
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hub-stall-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  /** The endpoint requests go to, without a trailing slash. */
  public URI endpoint() {
    return endpoint;
  }

  /** Whether a token is configured (never the token itself). */
  public boolean hasToken() {
    return token.isPresent();
  }

  /**
   * Checks the form {@code owner/name} (or a bare legacy {@code name}) of a repository id.
   *
   * @throws IllegalArgumentException naming it
   */
  public static String checkRepoId(String repo) {
    if (repo == null || !REPO_ID.matcher(repo).matches() || repo.contains("..") || repo.contains("--")) {
      throw new IllegalArgumentException("not a Hugging Face repository id (owner/name: letters, digits, '.', '_',"
          + " '-'; no '--' or '..'): " + repo);
    }
    return repo;
  }

  /**
   * The commit sha that {@code revision} (branch, tag or commit) names in model repository {@code repo}.
   *
   * @throws HubException naming the repository and revision (unknown repository or revision, no access, ...)
   */
  public String commit(String repo, String revision) {
    checkRepoId(repo);
    String what = "resolving revision '" + revision + "' of " + repo;
    URI uri = URI.create(endpoint + "/api/models/" + repo + "/revision/" + encodeSegment(revision));
    JsonNode info = getJson(uri, what);
    String sha = info.path("sha").asText("");
    if (!COMMIT.matcher(sha).matches()) {
      throw new HubException(what + ": the Hub's answer has no commit sha (field sha: '" + sha + "')");
    }
    return sha;
  }

  /**
   * Every file (not directory) of {@code repo} at {@code commit}, recursively.
   *
   * @throws HubException naming the repository and commit
   */
  public List<RepoFile> files(String repo, String commit) {
    checkRepoId(repo);
    String what = "listing the files of " + repo + " at commit " + commit;
    List<RepoFile> files = new ArrayList<>();
    URI next = URI.create(endpoint + "/api/models/" + repo + "/tree/" + encodeSegment(commit) + "?recursive=true");
    for (int page = 0; next != null; page++) {
      if (page > 10_000) {
        throw new HubException(what + ": more than 10000 pages; the Hub's Link header loops");
      }
      Response r = get(next, "application/json", 0, what);
      JsonNode entries;
      try (InputStream in = r.body()) {
        entries = JSON.readTree(in);
      } catch (IOException e) {
        throw new HubException(what + ": cannot read the Hub's answer: " + e.getMessage(), 0, true, e);
      }
      if (entries == null || !entries.isArray()) {
        throw new HubException(what + ": the Hub's answer is not a JSON array of files");
      }
      for (JsonNode e : entries) {
        if (!"file".equals(e.path("type").asText())) {
          continue;
        }
        try {
          JsonNode lfs = e.path("lfs");
          Optional<String> lfsSha = lfs.isObject() ? Optional.of(lfs.path("oid").asText("")) : Optional.empty();
          long size = lfs.isObject() && lfs.has("size") ? lfs.path("size").asLong(-1) : e.path("size").asLong(-1);
          files.add(new RepoFile(e.path("path").asText(), size, e.path("oid").asText(null), lfsSha));
        } catch (IllegalArgumentException bad) {
          throw new HubException(what + ": unusable tree entry: " + bad.getMessage());
        }
      }
      next = r.header("Link").map(NEXT_LINK::matcher).filter(Matcher::find)
          .map(m -> r.uri().resolve(m.group(1))).orElse(null);
    }
    return files;
  }

  /**
   * Puts {@code file} of {@code repo} at {@code commit} at {@code target}, verified. A verified copy
   * already at {@code target} is kept (nothing is fetched). Otherwise the content goes to {@code
   * target + ".part"}: an existing {@code .part} is continued with a {@code Range} request (a
   * server that answers 200 instead of 206 sends everything again, and the part is restarted); the
   * complete part is checked (size, then sha256 or git blob sha1), flushed to disk and moved to
   * {@code target} atomically. A part that was continued and fails the check may hold bytes of
   * another version: it is deleted and the file fetched once more from the start.
   *
   * @param progress called with the bytes of the file present so far (resumed part included)
   * @throws HubException naming the file: a broken or stalled transfer (retryable; the {@code .part}
   *                      is kept for the next try), a checksum mismatch (the part is deleted, no file
   *                      is left under {@code target}), an HTTP error
   */
  public Downloaded download(String repo, String commit, RepoFile file, Path target, LongConsumer progress) {
    checkRepoId(repo);
    Path part = target.resolveSibling(target.getFileName() + ".part");
    String name = file.path() + " of " + repo + " at commit " + commit;
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      if (Files.isRegularFile(target) && Files.size(target) == file.size()) {
        FileDigest.Sums sums = digestOf(target, file.size());
        if (mismatch(file, sums) == null) {
          progress.accept(file.size());
          return new Downloaded(file, target, sums.sha256(), 0, 0, true);
        }
      }
      for (boolean restarted = false; ; restarted = true) {
        Attempt a = fetch(repo, commit, file, part, name, progress);
        String mismatch = mismatch(file, a.sums());
        if (mismatch == null) {
          try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
          Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          return new Downloaded(file, target, a.sums().sha256(), a.transferred(), a.resumedFrom(), false);
        }
        Files.deleteIfExists(part);
        if (a.resumedFrom() == 0 || restarted) {
          throw new HubException(name + ": " + mismatch + "; nothing was kept under " + target
              + " (a corrupt transfer, a proxy rewriting content, or a tree listing that does not match the file)");
        }
        // The .part was continued from an earlier run, perhaps of another revision: start over once.
      }
    } catch (IOException e) {
      throw new HubException(name + ": cannot write " + part + ": " + e.getMessage(), 0, false, e);
    }
  }

  /** The part's content after one transfer (or none, when the part is already complete). */
  private record Attempt(FileDigest.Sums sums, long transferred, long resumedFrom) {}

  private Attempt fetch(String repo, String commit, RepoFile file, Path part, String name, LongConsumer progress)
      throws IOException {
    long offset = Files.isRegularFile(part) ? Files.size(part) : 0;
    if (offset > file.size()) {
      Files.delete(part);
      offset = 0;
    }
    FileDigest digest = new FileDigest(file.size());
    if (offset > 0) {
      feed(part, digest);
    }
    long resumedFrom = offset;
    long transferred = 0;
    if (offset < file.size() || !Files.exists(part)) {
      URI uri = URI.create(endpoint + "/" + repo + "/resolve/" + encodeSegment(commit) + "/" + encodePath(file.path()));
      long present = offset;
      Response r;
      try {
        r = get(uri, "*/*", offset, "downloading " + name);
      } catch (HubException e) {
        if (e.status() == 416) {
          Files.deleteIfExists(part); // the part is longer than the file the server has: start over
        }
        throw e;
      }
      StallGuard guard = new StallGuard(r.body());
      try (InputStream in = r.body()) {
        if (r.start() != offset) {
          // The server ignored the Range header and sends the whole file.
          digest = new FileDigest(file.size());
          resumedFrom = 0;
          present = 0;
          Files.write(part, new byte[0]);
        }
        OutputStream out = openAppend(part, name);
        try (out) {
          byte[] buffer = new byte[BUFFER_BYTES];
          progress.accept(present);
          for (int n; (n = in.read(buffer)) >= 0; ) {
            guard.progressed();
            if (present + n > file.size()) {
              throw new HubException("downloading " + name + ": the server sends more than the listed "
                  + file.size() + " bytes", 0, true, null);
            }
            write(out, buffer, n, part, name);
            digest.update(buffer, 0, n);
            present += n;
            transferred += n;
            progress.accept(present);
          }
        }
      } catch (IOException e) {
        throw transferFailure(guard.fired(), name, present, file.size(), e);
      } finally {
        guard.close();
      }
      if (guard.fired()) {
        // The watchdog closed the stream, which then reads as a normal end.
        throw transferFailure(true, name, present, file.size(), null);
      }
      if (present < file.size()) {
        throw new HubException("downloading " + name + ": the connection ended after " + present + " of "
            + file.size() + " bytes; the part file " + part + " is kept and the next try resumes from it", 0, true, null);
      }
    }
    return new Attempt(digest.finish(), transferred, resumedFrom);
  }

  /** Opens the part for appending; failures are the local disk's, not the network's, so not retried. */
  private static OutputStream openAppend(Path part, String name) {
    try {
      return new FileOutputStream(part.toFile(), true);
    } catch (IOException e) {
      throw new HubException(name + ": cannot write " + part + ": " + e.getMessage(), 0, false, e);
    }
  }

  private static void write(OutputStream out, byte[] buffer, int n, Path part, String name) {
    try {
      out.write(buffer, 0, n);
    } catch (IOException e) {
      throw new HubException(name + ": cannot write " + part + ": " + e.getMessage(), 0, false, e);
    }
  }

  private HubException transferFailure(boolean stalled, String name, long present, long size, IOException e) {
    String why = stalled ? "no data for " + stallTimeout.toMillis() + " ms" : "the connection broke (" + e + ")";
    return new HubException("downloading " + name + ": " + why + " after " + present + " of " + size
        + " bytes; the part file is kept and the next try resumes from it", 0, true, e);
  }

  /** Why {@code sums} do not match what the tree listed, or null when they do. */
  private static String mismatch(RepoFile file, FileDigest.Sums sums) {
    if (file.isLfs()) {
      return file.lfsSha256().get().equals(sums.sha256()) ? null
          : "sha256 mismatch: the Hub lists " + file.lfsSha256().get() + " but the downloaded content has " + sums.sha256();
    }
    return file.gitOid().equals(sums.gitBlobSha1()) ? null
        : "git blob sha1 mismatch: the Hub lists " + file.gitOid() + " but the downloaded content has " + sums.gitBlobSha1();
  }

  private static FileDigest.Sums digestOf(Path file, long size) throws IOException {
    FileDigest digest = new FileDigest(size);
    feed(file, digest);
    return digest.finish();
  }

  private static void feed(Path file, FileDigest digest) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[BUFFER_BYTES];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        digest.update(buffer, 0, n);
      }
    }
  }

  private JsonNode getJson(URI uri, String what) {
    Response r = get(uri, "application/json", 0, what);
    try (InputStream in = r.body()) {
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new HubException(what + ": cannot read the Hub's answer: " + e.getMessage(), 0, true, e);
    }
  }

  /** A successful answer (200, or 206 to a range request) whose body the caller reads and closes. */
  private record Response(URI uri, HttpResponse<InputStream> http, long start) {
    InputStream body() {
      return http.body();
    }

    Optional<String> header(String name) {
      return http.headers().firstValue(name);
    }
  }

  /**
   * GETs {@code uri}, following up to {@value #MAX_REDIRECTS} redirects; {@code rangeStart > 0}
   * asks for the bytes from there on.
   */
  private Response get(URI uri, String accept, long rangeStart, String what) {
    URI current = uri;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(current).GET()
          .timeout(stallTimeout)
          .header("Accept", accept)
          .header("User-Agent", "nlpstream-models-pull");
      if (token.isPresent() && sameOrigin(current, endpoint)) {
        request.header("Authorization", "Bearer " + token.get());
      }
      if (rangeStart > 0) {
        request.header("Range", "bytes=" + rangeStart + "-");
      }
      HttpResponse<InputStream> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new HubException(what + ": cannot reach " + origin(current) + ": " + e, 0, true, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HubException(what + ": interrupted while waiting for " + origin(current), 0, true, e);
      }
      int status = response.statusCode();
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        Optional<String> location = response.headers().firstValue("Location");
        discard(response);
        if (location.isEmpty()) {
          throw new HubException(what + ": HTTP " + status + " redirect without a Location header", status, false, null);
        }
        current = current.resolve(location.get());
        continue;
      }
      if (status == 200) {
        return new Response(current, response, 0);
      }
      if (status == 206 && rangeStart > 0) {
        String range = response.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(range);
        if (!m.find() || Long.parseLong(m.group(1)) != rangeStart) {
          discard(response);
          throw new HubException(what + ": asked for the bytes from " + rangeStart + ", the server answered 206 with"
              + " Content-Range '" + range + "'", status, true, null);
        }
        return new Response(current, response, rangeStart);
      }
      throw failure(response, what);
    }
    throw new HubException(what + ": more than " + MAX_REDIRECTS + " redirects", 0, false, null);
  }

  /** The exception for an unsuccessful answer, with what the Hub says about it (X-Error-Code, X-Error-Message, body). */
  private HubException failure(HttpResponse<InputStream> response, String what) {
    int status = response.statusCode();
    String code = response.headers().firstValue("X-Error-Code").orElse("");
    String hubMessage = response.headers().firstValue("X-Error-Message").orElse(errorBody(response));
    String reason = switch (status) {
      case 401 -> token.isPresent()
          ? "the repository does not exist, or HF_TOKEN does not give access to it"
          : "the repository does not exist, or it is private or gated: set HF_TOKEN to a token that can read it";
      case 403 -> "GatedRepo".equals(code)
          ? "the repository is gated: accept its conditions on " + endpoint + " with the account of HF_TOKEN"
          : "access refused" + (token.isPresent() ? " to this HF_TOKEN" : "; set HF_TOKEN to a token that can read it");
      case 404 -> switch (code) {
        case "RevisionNotFound" -> "no such revision (branch, tag or commit)";
        case "EntryNotFound" -> "no such file at this revision";
        case "RepoNotFound" -> "no such repository";
        default -> "not found (repository, revision or file)";
      };
      case 416 -> "the requested range is beyond the end of the file";
      case 429 -> "rate limited by the Hub; try again later";
      default -> status >= 500 ? "server error" : "unexpected answer";
    };
    StringBuilder message = new StringBuilder(what).append(": HTTP ").append(status);
    if (!code.isEmpty()) {
      message.append(" (").append(code).append(')');
    }
    message.append(": ").append(reason);
    if (!hubMessage.isBlank()) {
      message.append(" [Hub: ").append(hubMessage.strip()).append(']');
    }
    boolean retryable = status == 429 || status >= 500 || status == 416;
    return new HubException(message.toString(), status, retryable, null);
  }

  /** The {@code error} of a JSON error body, or the start of a text one; empty when there is none. */
  private static String errorBody(HttpResponse<InputStream> response) {
    try (InputStream in = response.body()) {
      String text = new String(in.readNBytes(2048), StandardCharsets.UTF_8).strip();
      if (text.startsWith("{")) {
        try {
          String error = JSON.readTree(text).path("error").asText("");
          if (!error.isEmpty()) {
            return error;
          }
        } catch (IOException notJson) {
          // fall through: show the start of the text
        }
      }
      String oneLine = text.replaceAll("\\s+", " ");
      return oneLine.length() > 200 ? oneLine.substring(0, 200) + "..." : oneLine;
    } catch (IOException e) {
      return "";
    }
  }

  private static void discard(HttpResponse<InputStream> response) {
    try (InputStream in = response.body()) {
      in.readNBytes(64 * 1024);
    } catch (IOException ignored) {
      // a redirect's body carries nothing we need; the connection is simply not reused
    }
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  private static String origin(URI u) {
    return u.getScheme() + "://" + u.getHost() + (u.getPort() == -1 ? "" : ":" + u.getPort());
  }

  /** Percent-encodes one path segment (a revision such as {@code refs/pr/1} becomes one segment). */
  static String encodeSegment(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String encodePath(String path) {
    String[] segments = path.split("/", -1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < segments.length; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(encodeSegment(segments[i]));
    }
    return sb.toString();
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }

  @Override
  public String toString() {
    return "HubClient[" + endpoint + (token.isPresent() ? ", with token" : "") + "]";
  }

  /**
   * Aborts a transfer that receives nothing for {@link #stallTimeout}: the watchdog closes the
   * body stream and interrupts the reading thread (depending on the JDK, one or the other wakes a
   * blocked read: as an IOException or as an end of stream). An interrupt it caused is cleared on
   * close, so that it does not leak into the caller.
   */
  private final class StallGuard {
    private final Thread reader = Thread.currentThread();
    private final InputStream body;
    private final ScheduledFuture<?> check;
    private volatile long lastProgress = System.nanoTime();
    private boolean closed;
    private boolean fired;

    StallGuard(InputStream body) {
      this.body = body;
      long period = Math.max(10, stallTimeout.toMillis() / 4);
      check = watchdog.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    void progressed() {
      lastProgress = System.nanoTime();
    }

    private synchronized void check() {
      if (!closed && !fired && System.nanoTime() - lastProgress > stallTimeout.toNanos()) {
        fired = true;
        try {
          body.close();
        } catch (IOException | RuntimeException e) {
          // the interrupt below still wakes the reader
        }
        reader.interrupt();
      }
    }

    synchronized boolean fired() {
      return fired;
    }

    synchronized void close() {
      closed = true;
      check.cancel(false);
      if (fired) {
        Thread.interrupted();
      }
    }
  }
}
