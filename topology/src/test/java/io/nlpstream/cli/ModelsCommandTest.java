package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.catalog.ModelManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nlpstream models pull|list} against a Hub on 127.0.0.1 serving the tiny GPT-2 fixture of
 * the models module as an Optimum export repository (its graph through a redirect, as LFS files are).
 */
class ModelsCommandTest {

  private static final Path FIXTURE = Path.of("..", "models", "src", "test", "resources", "gpt", "tiny-gpt2");
  private static final String REPO = "nlpstream-test/tiny-gpt2";
  private static final String ID = "nlpstream-test--tiny-gpt2";
  private static final String COMMIT = "607a30d783dfa663caf39e06633721c8d4cfcd7e";
  private static final String TOKEN = "hf_cliTestToken0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  private HttpServer server;
  private final Map<String, byte[]> files = new LinkedHashMap<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final Map<String, String> env = new HashMap<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws IOException {
    for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
      files.put(f, Files.readAllBytes(FIXTURE.resolve(f)));
    }
    files.put("onnx/decoder_model_merged.onnx", Files.readAllBytes(FIXTURE.resolve("model.onnx")));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
    env.put("XDG_CACHE_HOME", tmp.resolve("xdg").toString());
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The revision, tree and resolve answers of the Hub; unknown repositories get its 401. */
  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
    String api = "/api/models/" + REPO + "/";
    byte[] body;
    if (path.equals(api + "revision/main")) {
      body = JSON.writeValueAsBytes(JSON.createObjectNode().put("sha", COMMIT));
    } else if (path.equals(api + "tree/" + COMMIT)) {
      ArrayNode tree = JSON.createArrayNode();
      files.forEach((name, bytes) -> {
        var entry = tree.addObject().put("type", "file").put("path", name).put("size", bytes.length);
        if (name.endsWith(".onnx")) {
          entry.put("oid", "f".repeat(40)).putObject("lfs").put("oid", hex("SHA-256", bytes)).put("size", bytes.length);
        } else {
          byte[] header = ("blob " + bytes.length + "\0").getBytes();
          byte[] blob = new byte[header.length + bytes.length];
          System.arraycopy(header, 0, blob, 0, header.length);
          System.arraycopy(bytes, 0, blob, header.length, bytes.length);
          entry.put("oid", hex("SHA-1", blob));
        }
      });
      body = JSON.writeValueAsBytes(tree);
    } else if (path.startsWith("/" + REPO + "/resolve/" + COMMIT + "/")) {
      String file = path.substring(("/" + REPO + "/resolve/" + COMMIT + "/").length());
      if (file.endsWith(".onnx")) {
        ex.getResponseHeaders().add("Location", "/cdn-objects/" + file);
        ex.sendResponseHeaders(302, -1);
        ex.close();
        return;
      }
      body = files.get(file);
    } else if (path.startsWith("/cdn-objects/")) {
      body = files.get(path.substring("/cdn-objects/".length()));
    } else {
      ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
      ex.sendResponseHeaders(401, -1);
      ex.close();
      return;
    }
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(body);
    }
  }

  private static String hex(String algorithm, byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private int execute(String... args) {
    CommandLine cli = NlpstreamCommand.commandLine(new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        if (cls == ModelsPullCommand.class) {
          return cls.cast(new ModelsPullCommand(env));
        }
        if (cls == ModelsListCommand.class) {
          return cls.cast(new ModelsListCommand(env));
        }
        return CommandLine.defaultFactory().create(cls);
      }
    });
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void pullWritesACatalogueEntryAndPrintsHowToSelectIt() {
    env.put("HF_ENDPOINT", endpoint());
    env.put("HF_TOKEN", TOKEN);
    Path catalog = tmp.resolve("catalog");

    assertThat(execute("models", "pull", REPO, "--catalog", catalog.toString())).as(err.toString()).isZero();

    List<String> lines = out.toString().lines().toList();
    assertThat(lines).singleElement().asString()
        .contains("commit " + COMMIT)
        .contains("as " + ID + ": gpt-decoder, onnx/decoder_model_merged.onnx, 5 files")
        .endsWith("select it with model.catalog.dir=" + catalog.toAbsolutePath() + " gpt.model=" + ID);
    assertThat(err.toString()).contains("Pulling " + REPO + "@main from " + endpoint() + " (with HF_TOKEN)")
        .contains("onnx/decoder_model_merged.onnx: ").contains("(verified)");
    assertThat(out.toString() + err.toString()).doesNotContain(TOKEN);
    assertThat(authorizations).contains("Bearer " + TOKEN);
    ModelManifest m = ModelCatalog.open(Optional.of(catalog)).manifest(ID);
    assertThat(m.kind()).isEqualTo(ModelManifest.GPT_DECODER);
    assertThat(m.model().file()).isEqualTo("onnx/decoder_model_merged.onnx");

    out.getBuffer().setLength(0);
    assertThat(execute("models", "list", "--catalog", catalog.toString())).isZero();
    assertThat(out.toString()).startsWith("ID").contains("minilm-heads").contains("built-in")
        .containsPattern(ID + "\\s+gpt-decoder\\s+" + COMMIT.substring(0, 12) + "\\s+"
            + java.util.regex.Pattern.quote(catalog.resolve(ID).toString()) + "\\s+" + REPO + "@" + COMMIT);
  }

  @Test
  void theCatalogueComesFromTheConfigurationThenTheCacheDirectory() throws IOException {
    Path configured = tmp.resolve("configured");
    Path config = tmp.resolve("nlpstream.properties");
    Files.writeString(config, "model.catalog.dir=" + configured + "\n");
    assertThat(execute("models", "pull", REPO, "--endpoint", endpoint(), "--config", config.toString(),
        "--id", "tiny")).as(err.toString()).isZero();
    assertThat(configured.resolve("tiny").resolve("model.json")).exists();

    assertThat(execute("models", "pull", REPO, "--endpoint", endpoint())).as(err.toString()).isZero();
    assertThat(tmp.resolve("xdg/nlpstream/catalog").resolve(ID).resolve("model.json")).exists();
    assertThat(authorizations).containsOnly("null"); // no HF_TOKEN, no Authorization header
  }

  @Test
  void anUnknownRepositoryFailsNamingItWithoutAStackTrace() {
    assertThat(execute("models", "pull", "acme/missing", "--endpoint", endpoint(), "--retries", "0",
        "--catalog", tmp.resolve("c").toString())).isEqualTo(1);
    assertThat(err.toString()).contains("nlpstream models pull: resolving revision 'main' of acme/missing")
        .contains("HTTP 401 (RepoNotFound)")
        .contains("HF_TOKEN").doesNotContain("\tat ");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void badArgumentsAreUsageErrors() {
    assertThat(execute("models", "pull", "not a repo", "--endpoint", endpoint())).isEqualTo(2);
    assertThat(err.toString()).contains("not a Hugging Face repository id");
    assertThat(execute("models", "pull", REPO, "--kind", "bert-multihead")).isEqualTo(2);
    assertThat(execute("models", "pull", REPO, "--endpoint", "ftp://example.org")).isEqualTo(2);
    assertThat(execute("models")).isEqualTo(2);
  }
}
