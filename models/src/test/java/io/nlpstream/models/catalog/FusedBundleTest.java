package io.nlpstream.models.catalog;

import static io.nlpstream.models.catalog.TinyBundles.FUSED;
import static io.nlpstream.models.catalog.TinyBundles.FUSED_CASED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.BertAnalyzer;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.models.tokenizer.Casing;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fused multi-head bundles (one graph from token ids to the three logits) on the tiny random-weight
 * fixtures, compared with what PyTorch computed for the same sentences (reference.json).
 */
class FusedBundleTest {

  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));
  private static final ModelCatalog CATALOG = ModelCatalog.open(Optional.empty());

  private static BertAnalyzer fused;
  private static BertAnalyzer cased;

  @TempDir
  Path dir;

  @BeforeAll
  static void load() {
    fused = (BertAnalyzer) CATALOG.openBertAnalyzer(FUSED, RUNTIME, 4096);
    cased = (BertAnalyzer) CATALOG.openBertAnalyzer(FUSED_CASED, RUNTIME, 4096);
  }

  @AfterAll
  static void close() {
    fused.close();
    cased.close();
  }

  @Test
  void oneGraphServesEveryRole() {
    assertThat(fused.passes()).hasSize(1);
    assertThat(fused.models()).containsExactlyInAnyOrderEntriesOf(Map.of("encoder", "test-fused@0",
        "sentiment", "test-fused@0", "entities", "test-fused@0", "classes", "test-fused@0"));
    assertThat(fused.windows().maxTokens()).isEqualTo(40);
  }

  @Test
  void outputsMatchPyTorchOnTheSameSentences() {
    assertMatchesReference(fused, FUSED);
  }

  @Test
  void caseIdsAreFedAndMatchPyTorch() {
    assertMatchesReference(cased, FUSED_CASED);
  }

  private static void assertMatchesReference(TextAnalyzer analyzer, String id) {
    List<JsonNode> reference = TinyBundles.reference(id);
    List<Analysis> results = analyzer.analyze(TinyBundles.texts(reference));
    for (int i = 0; i < reference.size(); i++) {
      JsonNode ref = reference.get(i);
      Analysis a = results.get(i);
      ref.get("sentiment").fields().forEachRemaining(e ->
          assertThat(a.sentiment().probabilities().get(e.getKey())).as("%s sentiment %s", ref.get("text"), e.getKey())
              .isCloseTo(e.getValue().asDouble(), within(1e-4)));
      for (ClassScore c : a.classes()) {
        assertThat(c.score()).as("%s class %s", ref.get("text"), c.label())
            .isCloseTo(ref.get("classes").get(c.label()).asDouble(), within(1e-4));
      }
      assertThat(TinyBundles.spans(a.entities())).as(ref.get("text").asText())
          .isEqualTo(TinyBundles.referenceSpans(ref));
      assertThat(a.tokens()).isEqualTo(ref.get("ids").size() + 2);
      assertThat(a.truncated()).isFalse();
    }
  }

  @Test
  void tokenizationAndCasingMatchThePythonReference() {
    byte[] json = TinyBundles.resource("nlpstream/catalog/" + FUSED_CASED + "/tokenizer.json");
    try (TextTokenizer tokenizer = TextTokenizer.fromJson("tokenizer.json", json)) {
      for (JsonNode ref : TinyBundles.reference(FUSED_CASED)) {
        String text = ref.get("text").asText();
        Tokens tokens = tokenizer.encode(text);
        assertThat(tokens.ids()).as(text).containsExactly(longs(ref.get("ids")));
        assertThat(tokens.starts()).as(text).containsExactly(ints(ref.get("starts")));
        assertThat(tokens.ends()).as(text).containsExactly(ints(ref.get("ends")));
        assertThat(Casing.of(text, tokens)).as(text).containsExactly(ints(ref.get("case_ids")));
      }
    }
  }

  private static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  private static int[] ints(JsonNode array) {
    return Arrays.stream(longs(array)).mapToInt(v -> (int) v).toArray();
  }

  @Test
  void casingReachesTheModelOnlyThroughCaseIds() {
    List<String> texts = List.of("Paris met NASA in Berlin", "paris met nasa in berlin", "PARIS MET NASA IN BERLIN");
    List<Analysis> uncased = fused.analyze(texts);
    List<Analysis> withCase = cased.analyze(texts);
    // The tokenizer lower-cases: without case_ids the three texts are the same input.
    for (Analysis a : uncased.subList(1, 3)) {
      assertThat(a.sentiment().probabilities().get("positive"))
          .isCloseTo(uncased.get(0).sentiment().probabilities().get("positive"), within(1e-6));
    }
    double p0 = withCase.get(0).sentiment().probabilities().get("positive");
    double p1 = withCase.get(1).sentiment().probabilities().get("positive");
    double p2 = withCase.get(2).sentiment().probabilities().get("positive");
    assertThat(Math.abs(p0 - p1)).isGreaterThan(1e-3);
    assertThat(Math.abs(p1 - p2)).isGreaterThan(1e-3);
  }

  @Test
  void batchedResultsEqualOneAtATimeAcrossWindows() {
    List<String> texts = new ArrayList<>(TinyBundles.texts(TinyBundles.reference(FUSED)));
    texts.add(TinyBundles.longText());
    texts.add("");
    texts.add("Café in São Paulo 😀 and 東京");
    texts.addAll(texts.subList(0, 2));
    for (BertAnalyzer analyzer : List.of(fused, cased)) {
      List<Analysis> batched = analyzer.analyze(texts);
      for (int i = 0; i < texts.size(); i++) {
        TinyBundles.assertSameAnalysis(batched.get(i), analyzer.analyze(List.of(texts.get(i))).get(0));
        TinyBundles.assertEntitiesWellFormed(texts.get(i), batched.get(i).entities());
      }
    }
    try (TextAnalyzer oneWindowPerCall = CATALOG.openBertAnalyzer(FUSED_CASED, RUNTIME, 1)) {
      List<Analysis> batched = cased.analyze(texts);
      List<Analysis> unbatched = oneWindowPerCall.analyze(texts);
      for (int i = 0; i < texts.size(); i++) {
        TinyBundles.assertSameAnalysis(batched.get(i), unbatched.get(i));
      }
    }
  }

  @Test
  void longTextsAreWindowedWithEntitiesOverTheWholeText() {
    String text = TinyBundles.longText();
    Analysis a = cased.analyze(List.of(text)).get(0);
    assertThat(a.truncated()).isTrue();
    assertThat(a.tokens()).isGreaterThan(200);
    assertThat(cased.tokenCount(text)).isEqualTo(40);
    TinyBundles.assertEntitiesWellFormed(text, a.entities());
    assertThat(a.entities().get(a.entities().size() - 1).end()).isGreaterThan(text.length() * 9 / 10);
  }

  // --- start-up checks ---

  @Test
  void labelCountsMustMatchTheLogits() throws Exception {
    Path bundle = TinyBundles.copy(FUSED, dir, "three-classes");
    TinyBundles.editJson(bundle, "model.json", m ->
        ((ObjectNode) m.get("labels")).putArray("classes").add("World").add("Sports").add("Business"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("three-classes", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("model.onnx") + ": model three-classes@0: output class_logits has"
            + " shape [?, 4], 4 labels, but model.json labels.classes lists 3");
  }

  @Test
  void aMissingOutputIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(FUSED, dir, "no-entities");
    TinyBundles.replace(bundle, "model.onnx", TinyBundles.resource("fixtures/hf/fused-no-entities.onnx"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("no-entities", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("model.onnx") + ": model no-entities@0 has the wrong interface")
        .hasMessageContaining("missing outputs [entity_logits]");
  }

  @Test
  void caseIdsOfTheWrongTypeAreNamed() throws Exception {
    Path bundle = TinyBundles.copy(FUSED, dir, "float-case-ids");
    TinyBundles.replace(bundle, "model.onnx", TinyBundles.resource("fixtures/hf/fused-float-case-ids.onnx"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("float-case-ids", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("model.onnx") + ": model float-case-ids@0: input case_ids has element"
            + " type float32, expected int64 [batch, sequence]");
  }

  @Test
  void theFusedFormTakesTopLevelTokenizerAndMaxTokens() throws Exception {
    Path a = TinyBundles.copy(FUSED, dir, "no-max-tokens");
    TinyBundles.editJson(a, "model.json", m -> m.remove("max_tokens"));
    Path b = TinyBundles.copy(FUSED, dir, "with-encoder");
    TinyBundles.editJson(b, "model.json", m -> m.putObject("encoder").put("id", "x"));
    Path c = TinyBundles.copy(FUSED, dir, "with-heads");
    TinyBundles.editJson(c, "model.json", m -> m.set("heads", m.get("model")));
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    assertThatThrownBy(() -> catalog.manifest("no-max-tokens"))
        .hasMessage(a.resolve("model.json") + ": required field max_tokens is missing");
    assertThatThrownBy(() -> catalog.manifest("with-encoder"))
        .hasMessageStartingWith(b.resolve("model.json") + ": field encoder does not belong here: the fused form");
    assertThatThrownBy(() -> catalog.manifest("with-heads"))
        .hasMessageContaining("exactly one of the fields heads (with encoder) and model (fused) must be present, found both");
  }

  @Test
  void aCorruptTokenizerIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(FUSED, dir, "bad-tokenizer");
    TinyBundles.replace(bundle, "tokenizer.json", "{\"model\": 42}".getBytes());
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openBertAnalyzer("bad-tokenizer", RUNTIME, 1024))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(bundle.resolve("tokenizer.json") + ": cannot load the tokenizer");
  }
}
