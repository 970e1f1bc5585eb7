package io.nlpstream.models.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub on 127.0.0.1 for tests: the revision and tree APIs and {@code resolve}
 * downloads of fixture files, as the Hub answers them (LFS files through a 302 to a second server
 * standing for the CDN; X-Error-Code headers; 401 for an unknown or private repository; Link
 * pagination of the tree; Range requests). Faults are injected per file: a dropped connection, a
 * stall, corrupt content, a server that ignores Range. Every request is recorded.
 */
final class LocalHub implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

  /** One request as the servers saw it. */
  record Request(String server, String path, String range, String authorization) {}

  /** A file of a repository: its content, whether it is stored in LFS, and its faults. */
  static final class Served {
    final String path;
    final byte[] content;
    final boolean lfs;
    volatile int dropAfter = -1;   // next content request: send this many bytes, then break the connection
    volatile int stallAfter = -1;  // next content request: send this many bytes, then go silent
    volatile boolean corrupt;      // serve content that differs from the listed checksum
    volatile boolean ignoreRange;  // answer 200 with everything to range requests

    Served(String path, byte[] content, boolean lfs) {
      this.path = path;
      this.content = content;
      this.lfs = lfs;
    }

    String sha256() {
      return hex("SHA-256", content);
    }

    String gitOid() {
      byte[] header = ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
      byte[] blob = Arrays.copyOf(header, header.length + content.length);
      System.arraycopy(content, 0, blob, header.length, content.length);
      return hex("SHA-1", blob);
    }

    byte[] served() {
      if (!corrupt) {
        return content;
      }
      byte[] bad = content.clone();
      bad[bad.length / 2] ^= 0x5a;
      return bad;
    }
  }

  /** A repository: one commit, branch and tag names pointing at it, its files. */
  static final class Repo {
    final String id;
    final String commit;
    final Map<String, Served> files = new LinkedHashMap<>();
    volatile String token; // required when set (a private repository)
    volatile boolean gated;

    Repo(String id, String commit) {
      this.id = id;
      this.commit = commit;
    }

    Repo file(String path, byte[] content, boolean lfs) {
      files.put(path, new Served(path, content, lfs));
      return this;
    }

    Repo file(String path, Path source, boolean lfs) {
      try {
        return file(path, Files.readAllBytes(source), lfs);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    Served served(String path) {
      return files.get(path);
    }
  }

  final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Map<String, Repo> repos = new ConcurrentHashMap<>();
  private final HttpServer hub;
  private final HttpServer cdn;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final CountDownLatch release = new CountDownLatch(1);
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  /** Stalled answers that have ended (the server stalls until it is closed, at most 60 s). */
  final java.util.concurrent.atomic.AtomicInteger stallsEnded = new java.util.concurrent.atomic.AtomicInteger();
  volatile int treePageSize = 1000;

  LocalHub() throws IOException {
    hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hub.createContext("/", this::hub);
    cdn.createContext("/", this::cdn);
    hub.setExecutor(executor);
    cdn.setExecutor(executor);
    hub.start();
    cdn.start();
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
  }

  Repo repo(String id, String commit) {
    Repo r = new Repo(id, commit);
    repos.put(id, r);
    return r;
  }

  List<Request> requestsFor(String server, String pathPart) {
    return requests.stream().filter(r -> r.server().equals(server) && r.path().contains(pathPart)).toList();
  }

  private void hub(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getRawPath();
    record(ex, "hub");
    String[] p = path.substring(1).split("/");
    try {
      if (p.length >= 6 && p[0].equals("api") && p[1].equals("models")) {
        Repo repo = access(ex, p[2] + "/" + p[3]);
        if (repo == null) {
          return;
        }
        String rev = URLDecoder.decode(p[5], StandardCharsets.UTF_8);
        if (!rev.equals(repo.commit) && !rev.equals("main") && !rev.equals("v1.0")) {
          error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
          return;
        }
        switch (p[4]) {
          case "revision" -> json(ex, JSON.createObjectNode().put("id", repo.id).put("sha", repo.commit), null);
          case "tree" -> tree(ex, repo);
          default -> error(ex, 404, null, "Not Found");
        }
      } else if (p.length >= 5 && p[2].equals("resolve")) {
        Repo repo = access(ex, p[0] + "/" + p[1]);
        if (repo == null) {
          return;
        }
        String rev = URLDecoder.decode(p[3], StandardCharsets.UTF_8);
        if (!rev.equals(repo.commit)) {
          error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
          return;
        }
        String file = URLDecoder.decode(String.join("/", Arrays.copyOfRange(p, 4, p.length)), StandardCharsets.UTF_8);
        Served s = repo.served(file);
        if (s == null) {
          error(ex, 404, "EntryNotFound", file + " does not exist on \"" + rev + "\"");
          return;
        }
        ex.getResponseHeaders().add("X-Repo-Commit", repo.commit);
        if (s.lfs) {
          ex.getResponseHeaders().add("X-Linked-Etag", "\"" + s.sha256() + "\"");
          ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/repos/"
              + s.sha256() + "?X-Amz-Signature=test");
          ex.sendResponseHeaders(302, -1);
          ex.close();
          return;
        }
        content(ex, s);
      } else {
        error(ex, 404, null, "Not Found");
      }
    } catch (RuntimeException e) {
      ex.sendResponseHeaders(500, -1);
      ex.close();
      throw e;
    }
  }

  private void cdn(HttpExchange ex) throws IOException {
    record(ex, "cdn");
    String sha = ex.getRequestURI().getPath().substring("/repos/".length());
    for (Repo r : repos.values()) {
      for (Served s : r.files.values()) {
        if (s.lfs && s.sha256().equals(sha)) {
          content(ex, s);
          return;
        }
      }
    }
    error(ex, 404, null, "NoSuchKey");
  }

  private Repo access(HttpExchange ex, String id) throws IOException {
    Repo repo = repos.get(id);
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (repo == null || (repo.token != null && !("Bearer " + repo.token).equals(auth))) {
      error(ex, 401, "RepoNotFound", "Repository not found");
      return null;
    }
    if (repo.gated) {
      error(ex, 403, "GatedRepo", "Access to model " + id + " is restricted.");
      return null;
    }
    return repo;
  }

  private void tree(HttpExchange ex, Repo repo) throws IOException {
    String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
    Matcher cursor = Pattern.compile("cursor=(\\d+)").matcher(query);
    int from = cursor.find() ? Integer.parseInt(cursor.group(1)) : 0;
    List<ObjectNode> entries = new ArrayList<>();
    List<String> dirs = repo.files.keySet().stream().filter(f -> f.contains("/"))
        .map(f -> f.substring(0, f.lastIndexOf('/'))).distinct().toList();
    for (String d : dirs) {
      entries.add(JSON.createObjectNode().put("type", "directory").put("oid", "0".repeat(40)).put("size", 0).put("path", d));
    }
    for (Served s : repo.files.values()) {
      ObjectNode e = JSON.createObjectNode().put("type", "file").put("size", s.content.length).put("path", s.path);
      if (s.lfs) {
        e.put("oid", hex("SHA-1", ("pointer " + s.sha256()).getBytes(StandardCharsets.UTF_8)));
        e.putObject("lfs").put("oid", s.sha256()).put("size", s.content.length).put("pointerSize", 134);
      } else {
        e.put("oid", s.gitOid());
      }
      entries.add(e);
    }
    ArrayNode page = JSON.createArrayNode();
    int to = Math.min(entries.size(), from + treePageSize);
    entries.subList(from, to).forEach(page::add);
    String link = to < entries.size()
        ? "<" + endpoint() + ex.getRequestURI().getRawPath() + "?recursive=true&cursor=" + to + ">; rel=\"next\""
        : null;
    json(ex, page, link);
  }

  private void content(HttpExchange ex, Served s) throws IOException {
    byte[] body = s.served();
    String range = ex.getRequestHeaders().getFirst("Range");
    int start = 0;
    Matcher m = range == null ? null : RANGE.matcher(range);
    if (m != null && m.matches() && !s.ignoreRange) {
      start = Integer.parseInt(m.group(1));
      if (start >= body.length) {
        ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
        ex.sendResponseHeaders(416, -1);
        ex.close();
        return;
      }
      ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
      ex.sendResponseHeaders(206, body.length - start);
    } else {
      ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
    }
    OutputStream out = ex.getResponseBody();
    int drop = s.dropAfter;
    int stall = s.stallAfter;
    if (drop >= 0 || stall >= 0) {
      s.dropAfter = -1;
      s.stallAfter = -1;
      int n = Math.min(Math.max(drop, stall), body.length - start);
      out.write(body, start, n);
      out.flush();
      if (stall >= 0) {
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        stallsEnded.incrementAndGet();
      }
      // Throwing from the handler makes the server close the connection mid-body.
      throw new IOException("LocalHub: connection dropped after " + n + " bytes of " + s.path);
    }
    out.write(body, start, body.length - start);
    out.close();
  }

  private void record(HttpExchange ex, String server) {
    requests.add(new Request(server, ex.getRequestURI().toString(), ex.getRequestHeaders().getFirst("Range"),
        ex.getRequestHeaders().getFirst("Authorization")));
  }

  private static void json(HttpExchange ex, Object body, String link) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    if (link != null) {
      ex.getResponseHeaders().add("Link", link);
    }
    ex.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
    if (code != null) {
      ex.getResponseHeaders().add("X-Error-Code", code);
      ex.getResponseHeaders().add("X-Error-Message", message);
    }
    byte[] bytes = JSON.writeValueAsBytes(JSON.createObjectNode().put("error", message));
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  static String hex(String algorithm, byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    release.countDown();
    hub.stop(0);
    cdn.stop(0);
    executor.shutdownNow();
  }
}
