package io.nlpstream.models.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Hub client against {@link LocalHub}: API answers, redirects, resume, checksums, errors, stalls. */
class HubClientTest {

  private static final String REPO = "acme/tiny";
  private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
  private static final String TOKEN = "hf_secretTokenValue123";

  @TempDir
  Path dir;

  private LocalHub server;
  private LocalHub.Repo repo;
  private final byte[] weights = random(300_000, 1);

  @BeforeEach
  void start() throws Exception {
    server = new LocalHub();
    repo = server.repo(REPO, COMMIT)
        .file("config.json", "{\"architectures\": [\"GPT2LMHeadModel\"]}".getBytes(StandardCharsets.UTF_8), false)
        .file("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8), false)
        .file("onnx/model.onnx", weights, true)
        .file("onnx/empty.txt", new byte[0], false);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HubClient client(Optional<String> token) {
    return new HubClient(server.endpoint(), token, Duration.ofSeconds(20));
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private RepoFile listed(HubClient hub, String path) {
    return hub.files(REPO, COMMIT).stream().filter(f -> f.path().equals(path)).findFirst().orElseThrow();
  }

  @Test
  void gitBlobIdIsGitsOwn() {
    // `printf 'hello\n' | git hash-object --stdin`
    FileDigest d = new FileDigest(6);
    d.update("hello\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
    assertThat(d.finish().gitBlobSha1()).isEqualTo("ce013625030ba8dba906f756967f9e9ca394464a");
  }

  @Test
  void resolvesTheRevisionAndListsEveryPageOfFilesWithoutDirectories() {
    server.treePageSize = 2;
    try (HubClient hub = client(Optional.empty())) {
      assertThat(hub.commit(REPO, "main")).isEqualTo(COMMIT);
      assertThat(hub.commit(REPO, "v1.0")).isEqualTo(COMMIT);
      List<RepoFile> files = hub.files(REPO, COMMIT);
      assertThat(files).extracting(RepoFile::path)
          .containsExactly("config.json", "README.md", "onnx/model.onnx", "onnx/empty.txt");
      RepoFile model = files.get(2);
      assertThat(model.isLfs()).isTrue();
      assertThat(model.lfsSha256()).contains(repo.served("onnx/model.onnx").sha256());
      assertThat(model.size()).isEqualTo(weights.length);
      assertThat(files.get(0).isLfs()).isFalse();
      assertThat(files.get(0).gitOid()).isEqualTo(repo.served("config.json").gitOid());
    }
    assertThat(server.requestsFor("hub", "/tree/")).hasSize(3); // 1 directory + 4 files, 2 per page
  }

  @Test
  void followsTheCdnRedirectAndSendsTheTokenOnlyToTheHub() throws Exception {
    repo.token = TOKEN;
    try (HubClient hub = client(Optional.of(TOKEN))) {
      Downloaded d = hub.download(REPO, COMMIT, listed(hub, "onnx/model.onnx"), dir.resolve("onnx/model.onnx"), n -> { });
      assertThat(d.path()).hasBinaryContent(weights);
      assertThat(d.sha256()).isEqualTo(repo.served("onnx/model.onnx").sha256());
      assertThat(d.transferred()).isEqualTo(weights.length);
      assertThat(hub.toString()).doesNotContain(TOKEN);
    }
    assertThat(server.requestsFor("hub", "/resolve/")).singleElement()
        .satisfies(r -> assertThat(r.authorization()).isEqualTo("Bearer " + TOKEN));
    assertThat(server.requestsFor("cdn", "/repos/")).singleElement()
        .satisfies(r -> assertThat(r.authorization()).isNull());
    assertThat(dir.resolve("onnx/model.onnx.part")).doesNotExist();
  }

  @Test
  void anInterruptedDownloadKeepsItsPartAndTheNextTryResumesWithARange() throws Exception {
    repo.served("onnx/model.onnx").dropAfter = 100_000;
    Path target = dir.resolve("onnx/model.onnx");
    Path part = dir.resolve("onnx/model.onnx.part");
    try (HubClient hub = client(Optional.empty())) {
      RepoFile file = listed(hub, "onnx/model.onnx");
      HubException e = catchThrowableOfType(() -> hub.download(REPO, COMMIT, file, target, n -> { }), HubException.class);
      assertThat(e.retryable()).isTrue();
      assertThat(e.getMessage()).contains("onnx/model.onnx").contains(REPO).contains("resumes");
      assertThat(target).doesNotExist();
      long kept = Files.size(part);
      assertThat(kept).isPositive().isLessThanOrEqualTo(100_000);
      assertThat(Thread.currentThread().isInterrupted()).isFalse();

      Downloaded d = hub.download(REPO, COMMIT, file, target, n -> { });
      assertThat(d.resumedFrom()).isEqualTo(kept);
      assertThat(d.transferred()).isEqualTo(weights.length - kept);
      assertThat(target).hasBinaryContent(weights);
      assertThat(part).doesNotExist();
      List<LocalHub.Request> cdn = server.requestsFor("cdn", "/repos/");
      assertThat(cdn).hasSize(2);
      assertThat(cdn.get(0).range()).isNull();
      assertThat(cdn.get(1).range()).isEqualTo("bytes=" + kept + "-");
    }
  }

  @Test
  void aServerThatIgnoresTheRangeMakesThePartStartOver() throws Exception {
    repo.served("onnx/model.onnx").ignoreRange = true;
    Path target = dir.resolve("onnx/model.onnx");
    Files.createDirectories(target.getParent());
    Files.write(dir.resolve("onnx/model.onnx.part"), Arrays.copyOf(weights, 5000));
    try (HubClient hub = client(Optional.empty())) {
      Downloaded d = hub.download(REPO, COMMIT, listed(hub, "onnx/model.onnx"), target, n -> { });
      assertThat(d.resumedFrom()).isZero();
      assertThat(d.transferred()).isEqualTo(weights.length);
    }
    assertThat(target).hasBinaryContent(weights);
    assertThat(server.requestsFor("cdn", "/repos/")).singleElement()
        .satisfies(r -> assertThat(r.range()).isEqualTo("bytes=5000-"));
  }

  @Test
  void aStalePartOfAnotherVersionIsDiscardedAndTheFileFetchedAgain() throws Exception {
    Path target = dir.resolve("onnx/model.onnx");
    Files.createDirectories(target.getParent());
    Files.write(dir.resolve("onnx/model.onnx.part"), random(7000, 99));
    try (HubClient hub = client(Optional.empty())) {
      Downloaded d = hub.download(REPO, COMMIT, listed(hub, "onnx/model.onnx"), target, n -> { });
      assertThat(d.resumedFrom()).isZero();
    }
    assertThat(target).hasBinaryContent(weights);
    List<LocalHub.Request> cdn = server.requestsFor("cdn", "/repos/");
    assertThat(cdn).extracting(LocalHub.Request::range).containsExactly("bytes=7000-", null);
  }

  @Test
  void aChecksumMismatchNamesTheFileAndLeavesNothing() {
    repo.served("onnx/model.onnx").corrupt = true;
    repo.served("config.json").corrupt = true;
    try (HubClient hub = client(Optional.empty())) {
      Path target = dir.resolve("onnx/model.onnx");
      assertThatThrownBy(() -> hub.download(REPO, COMMIT, listed(hub, "onnx/model.onnx"), target, n -> { }))
          .isInstanceOf(HubException.class)
          .hasMessageContaining("onnx/model.onnx of " + REPO)
          .hasMessageContaining("sha256 mismatch")
          .hasMessageContaining(repo.served("onnx/model.onnx").sha256())
          .satisfies(e -> assertThat(((HubException) e).retryable()).isFalse());
      assertThat(target).doesNotExist();
      assertThat(dir.resolve("onnx/model.onnx.part")).doesNotExist();

      Path config = dir.resolve("config.json");
      assertThatThrownBy(() -> hub.download(REPO, COMMIT, listed(hub, "config.json"), config, n -> { }))
          .hasMessageContaining("config.json of " + REPO).hasMessageContaining("git blob sha1 mismatch");
      assertThat(config).doesNotExist();
    }
  }

  @Test
  void aVerifiedFileInPlaceIsNotFetchedAgainButADamagedOneIs() throws Exception {
    try (HubClient hub = client(Optional.empty())) {
      RepoFile file = listed(hub, "onnx/model.onnx");
      Path target = dir.resolve("m.onnx");
      hub.download(REPO, COMMIT, file, target, n -> { });
      assertThat(hub.download(REPO, COMMIT, file, target, n -> { }).upToDate()).isTrue();
      assertThat(server.requestsFor("cdn", "/repos/")).hasSize(1);

      byte[] damaged = weights.clone();
      damaged[10] ^= 1;
      Files.write(target, damaged);
      Downloaded again = hub.download(REPO, COMMIT, file, target, n -> { });
      assertThat(again.upToDate()).isFalse();
      assertThat(target).hasBinaryContent(weights);
    }
  }

  @Test
  void anEmptyFileIsDownloaded() {
    try (HubClient hub = client(Optional.empty())) {
      Downloaded d = hub.download(REPO, COMMIT, listed(hub, "onnx/empty.txt"), dir.resolve("empty.txt"), n -> { });
      assertThat(d.path()).isEmptyFile();
    }
  }

  @Test
  void aStalledTransferIsAbortedKeepsItsPartAndResumes() throws Exception {
    repo.served("onnx/model.onnx").stallAfter = 50_000;
    Path target = dir.resolve("onnx/model.onnx");
    try (HubClient hub = new HubClient(server.endpoint(), Optional.empty(), Duration.ofMillis(700))) {
      RepoFile file = listed(hub, "onnx/model.onnx");
      HubException e = catchThrowableOfType(() -> hub.download(REPO, COMMIT, file, target, n -> { }), HubException.class);
      assertThat(e.getMessage()).contains("no data for 700 ms").contains("onnx/model.onnx");
      assertThat(e.retryable()).isTrue();
      assertThat(server.stallsEnded).hasValue(0); // the client gave up; the server did not end the answer
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
      long kept = Files.size(dir.resolve("onnx/model.onnx.part"));
      assertThat(kept).isPositive();

      assertThat(hub.download(REPO, COMMIT, file, target, n -> { }).resumedFrom()).isEqualTo(kept);
      assertThat(target).hasBinaryContent(weights);
    }
  }

  @Test
  void errorsNameTheRepositoryAndRevisionAndNeverTheToken() {
    try (HubClient anonymous = client(Optional.empty())) {
      assertThatThrownBy(() -> anonymous.commit("acme/missing", "main"))
          .isInstanceOf(HubException.class)
          .hasMessageContaining("revision 'main' of acme/missing")
          .hasMessageContaining("HTTP 401 (RepoNotFound)")
          .hasMessageContaining("set HF_TOKEN");
      assertThatThrownBy(() -> anonymous.commit(REPO, "no-such-branch"))
          .hasMessageContaining("revision 'no-such-branch' of " + REPO)
          .hasMessageContaining("HTTP 404 (RevisionNotFound)")
          .hasMessageContaining("no such revision")
          .hasMessageContaining("Invalid rev id: no-such-branch");
      assertThatThrownBy(() -> anonymous.download(REPO, COMMIT, new RepoFile("nope.json", 3, "a".repeat(40),
          Optional.empty()), dir.resolve("nope.json"), n -> { }))
          .hasMessageContaining("nope.json of " + REPO + " at commit " + COMMIT)
          .hasMessageContaining("HTTP 404 (EntryNotFound)");
    }
    repo.token = TOKEN;
    try (HubClient wrongToken = client(Optional.of("hf_wrong"))) {
      HubException e = catchThrowableOfType(() -> wrongToken.commit(REPO, "main"), HubException.class);
      assertThat(e.getMessage()).contains(REPO).contains("HF_TOKEN does not give access").doesNotContain("hf_wrong");
      assertThat(e.status()).isEqualTo(401);
      assertThat(e.retryable()).isFalse();
    }
    repo.token = null;
    repo.gated = true;
    try (HubClient withToken = client(Optional.of(TOKEN))) {
      assertThatThrownBy(() -> withToken.files(REPO, COMMIT))
          .hasMessageContaining("HTTP 403 (GatedRepo)").hasMessageContaining("accept its conditions")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TOKEN));
    }
  }

  @Test
  void anUnreachableHubIsARetryableFailureNamingIt() {
    server.close();
    try (HubClient hub = client(Optional.empty())) {
      assertThatThrownBy(() -> hub.commit(REPO, "main"))
          .isInstanceOf(HubException.class)
          .hasMessageContaining("cannot reach " + server.endpoint())
          .satisfies(e -> assertThat(((HubException) e).retryable()).isTrue());
    }
  }

  @Test
  void repoIdsAreChecked() {
    assertThatThrownBy(() -> HubClient.checkRepoId("../etc")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HubClient.checkRepoId("a/b/c")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HubClient.checkRepoId("https://huggingface.co/gpt2")).isInstanceOf(IllegalArgumentException.class);
    assertThat(HubClient.checkRepoId("onnx-community/Qwen2.5-0.5B-Instruct")).isNotNull();
    assertThat(HubClient.checkRepoId("gpt2")).isEqualTo("gpt2");
    assertThat(HubClient.encodeSegment("refs/pr/1")).isEqualTo("refs%2Fpr%2F1");
  }
}
