package io.nlpstream.models.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.catalog.ModelManifest;
import io.nlpstream.models.gpt.DecodingParams;
import io.nlpstream.models.gpt.Generation;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.GenerationRequest;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls of the tiny GPT-2 fixture (a real decoder with random weights) laid out as an Optimum
 * export repository on {@link LocalHub}: the bundle opens through {@link ModelCatalog} and
 * generates what the fixture generates; interrupted pulls resume; failed pulls leave no entry.
 */
class ModelPullTest {

  private static final String REPO = "nlpstream-test/tiny-gpt2";
  private static final String ID = "nlpstream-test--tiny-gpt2";
  private static final String COMMIT = "607a30d783dfa663caf39e06633721c8d4cfcd7e";
  private static final String GRAPH = "onnx/decoder_model_merged.onnx";
  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));

  @TempDir
  Path tmp;

  private LocalHub server;
  private LocalHub.Repo repo;
  private HubClient hub;
  private final List<String> notes = new ArrayList<>();
  private final PullListener listener = new PullListener() {
    @Override
    public void note(String message) {
      notes.add(message);
    }
  };

  static Path fixture(String name) {
    try {
      return Path.of(ModelPullTest.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeEach
  void start() throws Exception {
    Path gpt2 = fixture("/gpt/tiny-gpt2");
    server = new LocalHub();
    repo = server.repo(REPO, COMMIT)
        .file("config.json", gpt2.resolve("config.json"), false)
        .file("generation_config.json", gpt2.resolve("generation_config.json"), false)
        .file("tokenizer.json", gpt2.resolve("tokenizer.json"), false)
        .file("tokenizer_config.json", gpt2.resolve("tokenizer_config.json"), false)
        .file("README.md", "# tiny".getBytes(StandardCharsets.UTF_8), false)
        .file("model.safetensors", new byte[4096], true)
        .file("onnx/config.json", gpt2.resolve("config.json"), false)
        .file("onnx/decoder_model.onnx", new byte[2048], true)
        .file(GRAPH, gpt2.resolve("model.onnx"), true);
    hub = new HubClient(server.endpoint(), Optional.empty(), Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    hub.close();
    server.close();
  }

  private ModelPull.Result pull(ModelPull.Options options) {
    return new ModelPull(hub, listener).pull(tmp.resolve("catalog"), options);
  }

  private static Generation generate(Generator generator) throws Exception {
    return generator.submit(new GenerationRequest("r1", GenerationKind.SUMMARY, "The stream processor reads events",
        DecodingParams.greedy(6))).get(60, TimeUnit.SECONDS);
  }

  @Test
  void aPulledDecoderOpensFromTheCatalogueAndGeneratesLikeTheFixture() throws Exception {
    ModelPull.Result r = pull(ModelPull.Options.of(REPO).withRetries(0, Duration.ZERO));

    assertThat(r.id()).isEqualTo(ID);
    assertThat(r.kind()).isEqualTo(ModelManifest.GPT_DECODER);
    assertThat(r.commit()).isEqualTo(COMMIT);
    assertThat(r.graph()).isEqualTo(GRAPH);
    assertThat(r.files()).extracting(d -> d.file().path()).containsExactlyInAnyOrder("config.json",
        "generation_config.json", "tokenizer.json", "tokenizer_config.json", GRAPH);
    assertThat(r.downloaded()).isEqualTo(r.total());
    Path bundle = tmp.resolve("catalog").resolve(ID);
    assertThat(bundle.resolve(GRAPH)).hasSameBinaryContentAs(fixture("/gpt/tiny-gpt2/model.onnx"));
    assertThat(bundle.resolve("README.md")).doesNotExist();
    assertThat(server.requestsFor("cdn", "/repos/")).hasSize(1); // only the graph is LFS among the chosen files

    JsonNode m = LocalHub.JSON.readTree(bundle.resolve("model.json").toFile());
    assertThat(m.path("version").asText()).isEqualTo(COMMIT.substring(0, 12));
    assertThat(m.path("model").path("file").asText()).isEqualTo(GRAPH);
    assertThat(m.path("model").path("sha256").asText()).isEqualTo(repo.served(GRAPH).sha256());
    assertThat(m.path("tokenizer").path("sha256").asText()).isEqualTo(repo.served("tokenizer.json").sha256());
    assertThat(m.path("generation_config").path("file").asText()).isEqualTo("generation_config.json");
    assertThat(m.path("prompt_templates").asText()).isEqualTo("plain");
    assertThat(m.path("source").path("repo").asText()).isEqualTo(REPO);
    assertThat(m.path("source").path("revision").asText()).isEqualTo("main");
    assertThat(m.path("source").path("commit").asText()).isEqualTo(COMMIT);
    assertThat(m.path("source").path("hub").asText()).isEqualTo(server.endpoint().toString());
    assertThat(m.path("source").path("files")).hasSize(5);
    assertThat(r.settings(tmp.resolve("catalog")))
        .containsExactly("model.catalog.dir=" + tmp.resolve("catalog").toAbsolutePath(), "gpt.model=" + ID);

    ModelCatalog catalog = ModelCatalog.open(Optional.of(tmp.resolve("catalog")));
    assertThat(catalog.ids()).contains(ID);
    Generation pulled;
    try (Generator generator = catalog.openGenerator(ID, RUNTIME, GeneratorOptions.defaults(), tmp.resolve("cache"))) {
      assertThat(generator.modelId()).isEqualTo(ID + "@" + COMMIT.substring(0, 12));
      pulled = generate(generator);
    }
    Generation original;
    try (Generator generator = Generator.open(fixture("/gpt/tiny-gpt2"), RUNTIME, GeneratorOptions.defaults())) {
      original = generate(generator);
    }
    assertThat(pulled.generatedTokens()).isPositive().isEqualTo(original.generatedTokens());
    assertThat(pulled.text()).isEqualTo(original.text());

    // Pulling again checks the files in place and fetches nothing.
    int requests = server.requestsFor("cdn", "/repos/").size();
    ModelPull.Result again = pull(ModelPull.Options.of(REPO));
    assertThat(again.downloaded()).isZero();
    assertThat(again.files()).allMatch(Downloaded::upToDate);
    assertThat(server.requestsFor("cdn", "/repos/")).hasSize(requests);
  }

  @Test
  void aDroppedConnectionIsRetriedAndResumedWithinOnePull() {
    repo.served(GRAPH).dropAfter = 200_000;
    ModelPull.Result r = pull(ModelPull.Options.of(REPO).withRetries(2, Duration.ZERO));
    assertThat(r.files()).filteredOn(d -> d.file().path().equals(GRAPH)).singleElement()
        .satisfies(d -> assertThat(d.resumedFrom()).isPositive());
    assertThat(server.requestsFor("cdn", "/repos/")).extracting(LocalHub.Request::range)
        .first().isNull();
    assertThat(server.requestsFor("cdn", "/repos/")).extracting(LocalHub.Request::range)
        .last().asString().startsWith("bytes=");
    assertThat(notes).anyMatch(n -> n.startsWith("retry 1/2 of downloading " + GRAPH));
    assertThat(tmp.resolve("catalog").resolve(ID).resolve(GRAPH)).hasSameBinaryContentAs(
        fixture("/gpt/tiny-gpt2/model.onnx"));
  }

  @Test
  void aFailedPullLeavesNoCatalogueEntryAndTheNextRunResumes() throws Exception {
    pull(ModelPull.Options.of(REPO)); // an earlier, complete pull of the same id
    Path bundle = tmp.resolve("catalog").resolve(ID);
    Files.delete(bundle.resolve(GRAPH));
    repo.served(GRAPH).dropAfter = 150_000;

    HubException e = catchThrowableOfType(() -> pull(ModelPull.Options.of(REPO).withRetries(0, Duration.ZERO)),
        HubException.class);
    assertThat(e.getMessage()).contains(GRAPH).contains(REPO);
    assertThat(bundle.resolve("model.json")).doesNotExist();
    assertThat(ModelCatalog.open(Optional.of(tmp.resolve("catalog"))).ids()).doesNotContain(ID);
    long kept = Files.size(bundle.resolve(GRAPH + ".part"));
    assertThat(kept).isPositive();

    ModelPull.Result r = pull(ModelPull.Options.of(REPO).withRetries(0, Duration.ZERO));
    assertThat(r.downloaded()).isEqualTo(repo.served(GRAPH).content.length - kept);
    assertThat(server.requestsFor("cdn", "/repos/")).last()
        .satisfies(req -> assertThat(req.range()).isEqualTo("bytes=" + kept + "-"));
    assertThat(ModelCatalog.open(Optional.of(tmp.resolve("catalog"))).manifest(ID).kind())
        .isEqualTo(ModelManifest.GPT_DECODER);
  }

  @Test
  void aCorruptGraphFailsThePullNamingItAndLeavesNoFile() {
    repo.served(GRAPH).corrupt = true;
    assertThatThrownBy(() -> pull(ModelPull.Options.of(REPO).withRetries(3, Duration.ZERO)))
        .isInstanceOf(HubException.class)
        .hasMessageContaining(GRAPH + " of " + REPO)
        .hasMessageContaining("sha256 mismatch");
    Path bundle = tmp.resolve("catalog").resolve(ID);
    assertThat(bundle.resolve(GRAPH)).doesNotExist();
    assertThat(bundle.resolve(GRAPH + ".part")).doesNotExist();
    assertThat(bundle.resolve("model.json")).doesNotExist();
    assertThat(server.requestsFor("cdn", "/repos/")).hasSize(1); // a mismatch is not retried
  }

  @Test
  void aRepositoryOfAnotherArchitectureFailsBeforeItsGraphIsFetched() {
    repo.file("config.json", "{\"architectures\": [\"BertModel\"]}".getBytes(StandardCharsets.UTF_8), false);
    assertThatThrownBy(() -> pull(ModelPull.Options.of(REPO)))
        .isInstanceOf(HubException.class)
        .hasMessageContaining(REPO)
        .hasMessageContaining("[BertModel]")
        .hasMessageContaining("--kind");
    assertThat(server.requestsFor("cdn", "/repos/")).isEmpty();
  }

  @Test
  void aTokenClassifierBecomesAnHfTokenClassificationBundle() throws Exception {
    Path ner = fixture("/nlpstream/catalog/test-hf-ner");
    server.repo("acme/tiny-ner", "1111111111111111111111111111111111111111")
        .file("config.json", ner.resolve("config.json"), false)
        .file("tokenizer.json", ner.resolve("tokenizer.json"), false)
        .file("onnx/model.onnx", ner.resolve("model.onnx"), true)
        .file("onnx/model_quantized.onnx", new byte[100], true);
    ModelPull.Result r = pull(ModelPull.Options.of("acme/tiny-ner").withId("ner"));
    assertThat(r.kind()).isEqualTo(ModelManifest.HF_TOKEN_CLASSIFICATION);
    assertThat(r.graph()).isEqualTo("onnx/model.onnx");
    ModelManifest m = ModelCatalog.open(Optional.of(tmp.resolve("catalog"))).manifest("ner");
    assertThat(m.kind()).isEqualTo(ModelManifest.HF_TOKEN_CLASSIFICATION);
    assertThat(m.model().file()).isEqualTo("onnx/model.onnx");
    assertThat(m.promptTemplates()).isNull();
    assertThat(r.settings(tmp.resolve("catalog"))).contains("model.entities=ner");
  }

  @Test
  void anUnknownRevisionNamesRepoAndRevisionAndWritesNothing() {
    assertThatThrownBy(() -> pull(ModelPull.Options.of(REPO).withRevision("v9")))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("revision 'v9' of " + REPO)
        .hasMessageContaining("404");
    assertThat(tmp.resolve("catalog")).doesNotExist();
  }
}
