package io.nlpstream.models.catalog;

import static io.nlpstream.models.catalog.TinyBundles.FUSED;
import static io.nlpstream.models.catalog.TinyBundles.HF_NER;
import static io.nlpstream.models.catalog.TinyBundles.HF_SENTIMENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.bert.Analysis;
import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.bert.BertAnalyzer;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.OrtRuntime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face layouts (model.onnx + tokenizer.json + config.json) plugged into roles next to the
 * default bundle, on the tiny random-weight fixtures: label mapping, inputs fed as declared, merged
 * analyses, and every way such a directory can be wrong.
 */
class HuggingFaceBundleTest {

  private static final OrtRuntime RUNTIME = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 1));
  private static final ModelCatalog CATALOG = ModelCatalog.open(Optional.empty());
  private static final AnalyzerSpec COMBINED = AnalyzerSpec.of(FUSED)
      .with(Role.SENTIMENT, HF_SENTIMENT).with(Role.ENTITIES, HF_NER);

  private static BertAnalyzer fused;
  private static BertAnalyzer combined;

  @TempDir
  Path dir;

  @BeforeAll
  static void load() {
    fused = (BertAnalyzer) CATALOG.openBertAnalyzer(FUSED, RUNTIME, 4096);
    combined = (BertAnalyzer) CATALOG.openAnalyzer(COMBINED, RUNTIME, 4096);
  }

  @AfterAll
  static void close() {
    fused.close();
    combined.close();
  }

  @Test
  void eachRoleComesFromItsModelWithOnePassPerModel() {
    assertThat(combined.passes()).hasSize(3);
    assertThat(combined.models()).isEqualTo(Map.of(
        "encoder", "test-fused@0+test-hf-sentiment@0+test-hf-ner@0",
        "sentiment", "test-hf-sentiment@0",
        "entities", "test-hf-ner@0",
        "classes", "test-fused@0"));
    assertThat(combined.windows().maxTokens()).as("window from config.json max_position_embeddings").isEqualTo(40);
  }

  @Test
  void theSentimentClassifierMatchesPyTorchThroughItsLabelMap() {
    List<JsonNode> reference = TinyBundles.reference(HF_SENTIMENT);
    List<Analysis> results = combined.analyze(TinyBundles.texts(reference));
    for (int i = 0; i < reference.size(); i++) {
      Map<String, Double> p = results.get(i).sentiment().probabilities();
      assertThat(p).containsOnlyKeys("negative", "neutral", "positive");
      reference.get(i).get("sentiment").fields().forEachRemaining(e ->
          assertThat(p.get(e.getKey())).isCloseTo(e.getValue().asDouble(), within(1e-4)));
    }
  }

  @Test
  void theTokenClassifierMatchesPyTorchWithLabelsMappedByName() {
    // config.json lists bert-base-NER's order (O, B-MISC, I-MISC, B-PER, ...), not the contract's.
    List<JsonNode> reference = TinyBundles.reference(HF_NER);
    List<String> texts = TinyBundles.texts(reference);
    List<Analysis> results = combined.analyze(texts);
    for (int i = 0; i < reference.size(); i++) {
      assertThat(TinyBundles.spans(results.get(i).entities())).as(texts.get(i))
          .isEqualTo(TinyBundles.referenceSpans(reference.get(i)));
      TinyBundles.assertEntitiesWellFormed(texts.get(i), results.get(i).entities());
    }
  }

  @Test
  void rolesLeftToTheDefaultBundleAreUnchanged() {
    List<String> texts = new ArrayList<>(TinyBundles.texts(TinyBundles.reference(FUSED)));
    texts.add(TinyBundles.longText());
    List<Analysis> alone = fused.analyze(texts);
    List<Analysis> mixed = combined.analyze(texts);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(mixed.get(i).classes()).extracting(ClassScore::label)
          .isEqualTo(alone.get(i).classes().stream().map(ClassScore::label).toList());
      for (int k = 0; k < alone.get(i).classes().size(); k++) {
        assertThat(mixed.get(i).classes().get(k).score()).isCloseTo(alone.get(i).classes().get(k).score(), within(1e-5));
      }
      assertThat(mixed.get(i).truncated()).isEqualTo(alone.get(i).truncated());
    }
  }

  @Test
  void batchedResultsEqualOneAtATimeAcrossWindowsAndModels() {
    List<String> texts = new ArrayList<>(TinyBundles.texts(TinyBundles.reference(HF_NER)));
    texts.add(TinyBundles.longText());
    texts.add("");
    texts.add("Zoë Ünal visited Zürich 😀 with 東京 friends");
    List<Analysis> batched = combined.analyze(texts);
    for (int i = 0; i < texts.size(); i++) {
      TinyBundles.assertSameAnalysis(batched.get(i), combined.analyze(List.of(texts.get(i))).get(0));
      TinyBundles.assertEntitiesWellFormed(texts.get(i), batched.get(i).entities());
    }
    try (TextAnalyzer oneWindowPerCall = CATALOG.openAnalyzer(COMBINED, RUNTIME, 1)) {
      List<Analysis> unbatched = oneWindowPerCall.analyze(texts);
      for (int i = 0; i < texts.size(); i++) {
        TinyBundles.assertSameAnalysis(batched.get(i), unbatched.get(i));
      }
    }
    Analysis longOne = batched.get(texts.size() - 3);
    assertThat(longOne.truncated()).isTrue();
    assertThat(longOne.entities().get(longOne.entities().size() - 1).end())
        .as("entities over the whole long text").isGreaterThan(texts.get(texts.size() - 3).length() * 9 / 10);
  }

  @Test
  void rolesNamingTheSameModelShareOnePass() {
    AnalyzerSpec spec = AnalyzerSpec.of(FUSED).with(Role.ENTITIES, FUSED).with(Role.SENTIMENT, HF_SENTIMENT)
        .with(Role.CLASSES, " ");
    assertThat(spec.overrides()).containsOnlyKeys(Role.ENTITIES, Role.SENTIMENT);
    try (BertAnalyzer analyzer = (BertAnalyzer) CATALOG.openAnalyzer(spec, RUNTIME, 4096)) {
      assertThat(analyzer.passes()).hasSize(2);
      assertThat(analyzer.passOf(Role.ENTITIES)).isSameAs(analyzer.passOf(Role.CLASSES));
      assertThat(analyzer.models()).containsEntry("encoder", "test-fused@0+test-hf-sentiment@0");
    }
  }

  @Test
  void theBaseBundleIsNotLoadedWhenEveryRoleIsTaken() {
    AnalyzerSpec spec = AnalyzerSpec.of("no-such-bundle").with(Role.SENTIMENT, HF_SENTIMENT)
        .with(Role.ENTITIES, HF_NER).with(Role.CLASSES, FUSED);
    try (TextAnalyzer analyzer = CATALOG.openAnalyzer(spec, RUNTIME, 4096)) {
      assertThat(analyzer.models()).containsEntry("classes", "test-fused@0");
      assertThat(analyzer.analyze(List.of("Angela Merkel met John Smith in Paris."))).hasSize(1);
    }
    assertThatThrownBy(() -> CATALOG.openAnalyzer(spec.with(Role.CLASSES, null), RUNTIME, 4096))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("no-such-bundle: unknown model id");
  }

  // --- label mapping ---

  @Test
  void sentimentLabelsMatchIgnoringCaseWithoutALabelMap() throws Exception {
    Path bundle = TinyBundles.copy(HF_SENTIMENT, dir, "upper-case-labels");
    TinyBundles.editJson(bundle, "model.json", m -> m.remove("label_map"));
    TinyBundles.editJson(bundle, "config.json", c -> c.putObject("id2label")
        .put("0", "NEGATIVE").put("1", "Neutral").put("2", "positive"));
    List<JsonNode> reference = TinyBundles.reference(HF_SENTIMENT);
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.SENTIMENT, "upper-case-labels"), RUNTIME, 4096)) {
      Analysis a = analyzer.analyze(List.of(reference.get(0).get("text").asText())).get(0);
      assertThat(a.sentiment().probabilities().get("neutral"))
          .isCloseTo(reference.get(0).get("sentiment").get("neutral").asDouble(), within(1e-4));
    }
  }

  @Test
  void severalModelLabelsMayMapOntoOneAndTheirProbabilitiesAdd() throws Exception {
    Path bundle = TinyBundles.copy(HF_SENTIMENT, dir, "two-way");
    TinyBundles.editJson(bundle, "model.json", m -> m.putObject("label_map")
        .put("LABEL_0", "negative").put("LABEL_1", "negative").put("LABEL_2", "positive"));
    List<JsonNode> reference = TinyBundles.reference(HF_SENTIMENT);
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.SENTIMENT, "two-way"), RUNTIME, 4096)) {
      List<Analysis> results = analyzer.analyze(TinyBundles.texts(reference));
      for (int i = 0; i < reference.size(); i++) {
        JsonNode ref = reference.get(i).get("sentiment");
        Map<String, Double> p = results.get(i).sentiment().probabilities();
        assertThat(p).containsOnlyKeys("negative", "positive");
        assertThat(p.get("negative")).isCloseTo(ref.get("negative").asDouble() + ref.get("neutral").asDouble(),
            within(1e-4));
      }
    }
  }

  @Test
  void aSequenceClassifierCanServeTheClassesWithItsOwnLabels() throws Exception {
    Path bundle = TinyBundles.copy(HF_SENTIMENT, dir, "topics");
    TinyBundles.editJson(bundle, "model.json", m -> m.putObject("label_map").put("LABEL_2", "Tech"));
    List<JsonNode> reference = TinyBundles.reference(HF_SENTIMENT);
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.CLASSES, "topics"), RUNTIME, 4096)) {
      assertThat(analyzer.models()).containsEntry("classes", "topics@0").containsEntry("sentiment", "test-fused@0");
      List<ClassScore> classes = analyzer.analyze(List.of(reference.get(0).get("text").asText())).get(0).classes();
      assertThat(classes).extracting(ClassScore::label).containsExactlyInAnyOrder("LABEL_0", "LABEL_1", "Tech");
      JsonNode ref = reference.get(0).get("sentiment");
      assertThat(classes.stream().filter(c -> c.label().equals("Tech")).findFirst().orElseThrow().score())
          .isCloseTo(ref.get("positive").asDouble(), within(1e-4));
    }
  }

  @Test
  void entityTypesAreMappedByAliasAndByEntityTypes() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "long-type-names");
    TinyBundles.editJson(bundle, "config.json", c -> c.putObject("id2label")
        .put("0", "O").put("1", "B-product").put("2", "I-product").put("3", "B-person").put("4", "I-person")
        .put("5", "B_ORGANIZATION").put("6", "I_ORGANIZATION").put("7", "B-location").put("8", "I-location"));
    TinyBundles.editJson(bundle, "model.json", m -> m.putObject("entity_types").put("product", "MISC"));
    List<JsonNode> reference = TinyBundles.reference(HF_NER);
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.ENTITIES, "long-type-names"), RUNTIME, 4096)) {
      List<Analysis> results = analyzer.analyze(TinyBundles.texts(reference));
      for (int i = 0; i < reference.size(); i++) {
        assertThat(TinyBundles.spans(results.get(i).entities())).isEqualTo(TinyBundles.referenceSpans(reference.get(i)));
      }
    }
  }

  @Test
  void typesOutsideTheContractAreDecodedAsOutside() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "with-dates");
    TinyBundles.editJson(bundle, "config.json", c -> ((ObjectNode) c.get("id2label"))
        .put("1", "B-DATE").put("2", "I-DATE"));
    List<JsonNode> reference = TinyBundles.reference(HF_NER);
    List<String> texts = TinyBundles.texts(reference);
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.ENTITIES, "with-dates"), RUNTIME, 4096)) {
      List<Analysis> results = analyzer.analyze(texts);
      List<Entity> all = results.stream().flatMap(a -> a.entities().stream()).toList();
      assertThat(all).isNotEmpty().extracting(Entity::type).doesNotContain("MISC");
      // The reference's MISC entity ("sales") was DATE now: outside, so no entity covers it any more.
      assertThat(results.get(1).entities()).noneMatch(e -> e.text().contains("sales"));
      for (int i = 0; i < texts.size(); i++) {
        TinyBundles.assertEntitiesWellFormed(texts.get(i), results.get(i).entities());
      }
    }
  }

  // --- start-up checks: each names the file and what is wrong ---

  private ModelLoadException loadFailure(String id, Role role) {
    ModelCatalog catalog = ModelCatalog.open(Optional.of(dir));
    try (TextAnalyzer analyzer = catalog.openAnalyzer(AnalyzerSpec.of(FUSED).with(role, id), RUNTIME, 1024)) {
      throw new AssertionError("loaded " + analyzer.models());
    } catch (ModelLoadException e) {
      return e;
    }
  }

  @Test
  void aMissingId2labelIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "no-labels");
    TinyBundles.editJson(bundle, "config.json", c -> {
      c.remove("id2label");
      c.remove("label2id");
    });
    assertThat(loadFailure("no-labels", Role.ENTITIES))
        .hasMessageStartingWith(bundle.resolve("config.json") + ": config.json has no id2label");
  }

  @Test
  void aLabelCountThatDiffersFromTheOutputIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(HF_SENTIMENT, dir, "two-labels");
    TinyBundles.editJson(bundle, "config.json", c -> c.putObject("id2label").put("0", "NEGATIVE").put("1", "POSITIVE"));
    TinyBundles.editJson(bundle, "model.json", m -> m.remove("label_map"));
    assertThat(loadFailure("two-labels", Role.SENTIMENT))
        .hasMessageStartingWith(bundle.resolve("model.onnx") + ": model two-labels@0: output logits has shape [?, 3],"
            + " 3 labels, but " + bundle.resolve("config.json") + " id2label lists 2");
  }

  @Test
  void aLabelCountThatDiffersFromADynamicOutputIsFoundByAProbeRun() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "dynamic");
    TinyBundles.replace(bundle, "model.onnx", TinyBundles.resource("fixtures/hf/dynamic-labels.onnx"));
    // The graph declares logits [?, ?, ?]; with the right nine labels it loads and runs.
    try (TextAnalyzer analyzer = ModelCatalog.open(Optional.of(dir)).openAnalyzer(
        AnalyzerSpec.of(FUSED).with(Role.ENTITIES, "dynamic"), RUNTIME, 1024)) {
      assertThat(analyzer.analyze(List.of("Angela Merkel"))).hasSize(1);
    }
    TinyBundles.editJson(bundle, "config.json", c -> c.putObject("id2label")
        .put("0", "O").put("1", "B-PER").put("2", "I-PER").put("3", "B-LOC").put("4", "I-LOC"));
    assertThat(loadFailure("dynamic", Role.ENTITIES))
        .hasMessageStartingWith(bundle.resolve("model.onnx") + ": model dynamic@0: output logits has shape [1, 2, 9]"
            + " for one sequence of 2 tokens, 9 labels, but " + bundle.resolve("config.json") + " id2label lists 5");
  }

  @Test
  void malformedOrIncompleteConfigsAreNamed() throws Exception {
    Path a = TinyBundles.copy(HF_NER, dir, "gaps");
    TinyBundles.editJson(a, "config.json", c -> ((ObjectNode) c.get("id2label")).remove("4"));
    assertThat(loadFailure("gaps", Role.ENTITIES)).hasMessageStartingWith(a.resolve("config.json")
        + ": config.json id2label must be indexed 0..7, has indices [0, 1, 2, 3, 5, 6, 7, 8]");
    Path b = TinyBundles.copy(HF_NER, dir, "no-positions");
    TinyBundles.editJson(b, "config.json", c -> c.remove("max_position_embeddings"));
    assertThat(loadFailure("no-positions", Role.ENTITIES)).hasMessageStartingWith(b.resolve("config.json")
        + ": config.json has no usable max_position_embeddings");
    Path c = TinyBundles.copy(HF_NER, dir, "broken-json");
    TinyBundles.replace(c, "config.json", "{\"id2label\": {\"0\": \"O\",}".getBytes(StandardCharsets.UTF_8));
    assertThat(loadFailure("broken-json", Role.ENTITIES)).hasMessageStartingWith(c.resolve("config.json")
        + ": malformed config.json");
  }

  @Test
  void maxTokensCannotExceedThePositionEmbeddings() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "too-long");
    TinyBundles.editJson(bundle, "model.json", m -> m.put("max_tokens", 512));
    assertThat(loadFailure("too-long", Role.ENTITIES)).hasMessageStartingWith(bundle.resolve("model.json")
        + ": field max_tokens is 512 but " + bundle.resolve("config.json") + " allows at most 40");
  }

  @Test
  void aFileThatIsNotOnnxIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "not-onnx");
    TinyBundles.replace(bundle, "model.onnx", "<html>404 Not Found</html>".getBytes(StandardCharsets.UTF_8));
    assertThat(loadFailure("not-onnx", Role.ENTITIES)).hasMessageStartingWith(bundle.resolve("model.onnx")
        + ": ONNX Runtime cannot load model not-onnx@0 (not an ONNX model");
  }

  @Test
  void wrongInputsAreNamed() throws Exception {
    Path a = TinyBundles.copy(HF_NER, dir, "int32");
    TinyBundles.replace(a, "model.onnx", TinyBundles.resource("fixtures/hf/int32-input-ids.onnx"));
    assertThat(loadFailure("int32", Role.ENTITIES)).hasMessageStartingWith(a.resolve("model.onnx")
        + ": model int32@0: input input_ids has element type int32, expected int64 [batch, sequence]");
    Path b = TinyBundles.copy(HF_NER, dir, "no-mask");
    TinyBundles.replace(b, "model.onnx", TinyBundles.resource("fixtures/hf/no-attention-mask.onnx"));
    assertThat(loadFailure("no-mask", Role.ENTITIES)).hasMessageStartingWith(b.resolve("model.onnx")
        + ": model no-mask@0 has the wrong interface: missing inputs [attention_mask]");
    Path c = TinyBundles.copy(HF_NER, dir, "pixels");
    TinyBundles.replace(c, "model.onnx", TinyBundles.resource("fixtures/hf/extra-input.onnx"));
    assertThat(loadFailure("pixels", Role.ENTITIES)).hasMessageStartingWith(c.resolve("model.onnx")
        + ": model pixels@0 has the wrong interface: unexpected inputs [pixel_values]")
        .hasMessageContaining("(optional [token_type_ids])");
  }

  @Test
  void aSequenceClassifierDeclaredAsTokenClassificationIsNamed() throws Exception {
    Path bundle = TinyBundles.copy(HF_SENTIMENT, dir, "wrong-kind");
    TinyBundles.editJson(bundle, "model.json", m -> {
      m.put("kind", "hf-token-classification");
      m.remove("label_map");
    });
    TinyBundles.editJson(bundle, "config.json", c -> c.putObject("id2label")
        .put("0", "O").put("1", "B-PER").put("2", "I-PER"));
    assertThat(loadFailure("wrong-kind", Role.ENTITIES)).hasMessageStartingWith(bundle.resolve("model.onnx")
        + ": model wrong-kind@0: output logits has shape [?, 3] (rank 2), expected rank 3 [batch, sequence, labels]");
  }

  @Test
  void aModelConfiguredForARoleItsKindCannotServeIsNamed() throws Exception {
    TinyBundles.copy(HF_NER, dir, "ner");
    Path bundle = dir.resolve("ner");
    assertThat(loadFailure("ner", Role.SENTIMENT)).hasMessage(bundle.resolve("model.json")
        + ": a model of kind hf-token-classification serves [entities], it was configured for [sentiment]");
    TinyBundles.copy(HF_SENTIMENT, dir, "both");
    AnalyzerSpec spec = AnalyzerSpec.of(FUSED).with(Role.SENTIMENT, "both").with(Role.CLASSES, "both");
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).openAnalyzer(spec, RUNTIME, 1024))
        .hasMessage(dir.resolve("both/model.json") + ": a model of kind hf-sequence-classification serves one role,"
            + " it was configured for [sentiment, classes]");
  }

  @Test
  void unmappedOrMismappedLabelsAreNamed() throws Exception {
    Path a = TinyBundles.copy(HF_SENTIMENT, dir, "unmapped");
    TinyBundles.editJson(a, "model.json", m -> m.remove("label_map"));
    assertThat(loadFailure("unmapped", Role.SENTIMENT)).hasMessageStartingWith(a.resolve("config.json")
        + ": id2label value 'LABEL_0' is not a sentiment label [negative, neutral, positive]: map it in "
        + a.resolve("model.json") + " label_map");
    Path b = TinyBundles.copy(HF_SENTIMENT, dir, "typo");
    TinyBundles.editJson(b, "model.json", m -> ((ObjectNode) m.get("label_map")).put("LABEL_3", "positive"));
    assertThat(loadFailure("typo", Role.SENTIMENT)).hasMessageStartingWith(b.resolve("model.json")
        + ": label_map key 'LABEL_3' is not a label of " + b.resolve("config.json") + " id2label");
    Path c = TinyBundles.copy(HF_SENTIMENT, dir, "not-sentiment");
    TinyBundles.editJson(c, "model.json", m -> ((ObjectNode) m.get("label_map")).put("LABEL_2", "happy"));
    assertThat(loadFailure("not-sentiment", Role.SENTIMENT)).hasMessageStartingWith(c.resolve("model.json")
        + ": label_map maps 'LABEL_2' to 'happy', which is not a sentiment label");
    Path d = TinyBundles.copy(HF_NER, dir, "bad-type");
    TinyBundles.editJson(d, "model.json", m -> m.putObject("entity_types").put("PER", "PERSON"));
    assertThat(loadFailure("bad-type", Role.ENTITIES)).hasMessageStartingWith(d.resolve("model.json")
        + ": entity_types maps 'PER' to 'PERSON', expected one of [PER, ORG, LOC, MISC] or O");
    Path e = TinyBundles.copy(HF_NER, dir, "unknown-type");
    TinyBundles.editJson(e, "model.json", m -> m.putObject("entity_types").put("DATE", "O"));
    assertThat(loadFailure("unknown-type", Role.ENTITIES)).hasMessageStartingWith(e.resolve("model.json")
        + ": entity_types key 'DATE' is not an entity type of " + e.resolve("config.json"));
  }

  @Test
  void manifestFieldsOfAnotherKindAreRefused() throws Exception {
    Path a = TinyBundles.copy(HF_SENTIMENT, dir, "with-labels");
    TinyBundles.editJson(a, "model.json", m -> m.putObject("labels").putArray("sentiment").add("negative"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("with-labels"))
        .hasMessageStartingWith(a.resolve("model.json") + ": field labels does not belong here: kind"
            + " hf-sequence-classification takes model, tokenizer and config");
    Path b = TinyBundles.copy(HF_NER, dir, "no-config");
    TinyBundles.editJson(b, "model.json", m -> m.remove("config"));
    assertThatThrownBy(() -> ModelCatalog.open(Optional.of(dir)).manifest("no-config"))
        .hasMessage(b.resolve("model.json") + ": required field config is missing");
  }

  @Test
  void aTamperedConfigIsCaughtByItsChecksum() throws Exception {
    Path bundle = TinyBundles.copy(HF_NER, dir, "tampered");
    Files.writeString(bundle.resolve("config.json"),
        Files.readString(bundle.resolve("config.json")).replace("B-PER", "B-ORG"));
    assertThat(loadFailure("tampered", Role.ENTITIES)).hasMessageStartingWith(bundle.resolve("config.json")
        + ": sha256 mismatch");
  }
}
