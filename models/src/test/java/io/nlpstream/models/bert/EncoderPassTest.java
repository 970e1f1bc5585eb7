package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.tokenizer.Casing;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * What an {@link EncoderPass} sends to its network and how {@link BertAnalyzer} merges passes, with
 * a recording stand-in for the network (the real networks are tested in the catalogue's tests) and
 * the real tokenizers of the tiny fixtures.
 */
class EncoderPassTest {

  private static final List<String> SENTIMENT = List.of("negative", "neutral", "positive");
  private static final List<String> CLASSES = List.of("World", "Sports", "Business", "Sci/Tech");
  private static final List<String> ENTITIES = List.of("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC",
      "B-MISC", "I-MISC");

  /** Records every batch; sentiment favours positive, classes Sports, every token B-PER. */
  static final class RecordingNetwork implements BertNetwork {
    final List<Batch> batches = new ArrayList<>();
    final boolean caseIds;
    boolean closed;

    RecordingNetwork(boolean caseIds) {
      this.caseIds = caseIds;
    }

    @Override
    public boolean needsCaseIds() {
      return caseIds;
    }

    @Override
    public Logits run(Batch batch) {
      batches.add(batch);
      float[] sentiment = new float[batch.size() * 3];
      float[] classes = new float[batch.size() * 4];
      float[] entities = new float[batch.size() * batch.seq() * 9];
      for (int r = 0; r < batch.size(); r++) {
        sentiment[r * 3 + 2] = 5;
        classes[r * 4 + 1] = 5;
      }
      for (int p = 0; p < batch.size() * batch.seq(); p++) {
        entities[p * 9 + 1] = 5;
      }
      return new Logits(sentiment, classes, entities);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  static TextTokenizer tokenizer(String bundle) {
    String name = "nlpstream/catalog/" + bundle + "/tokenizer.json";
    try (InputStream in = EncoderPassTest.class.getClassLoader().getResourceAsStream(name)) {
      return TextTokenizer.fromJson(name, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static EncoderPass.Heads heads(boolean sentiment, boolean classes, boolean entities) {
    return new EncoderPass.Heads(sentiment ? new SentimentHead(SENTIMENT) : null,
        classes ? new ClassHead(CLASSES) : null, entities ? new EntityDecoder(ENTITIES) : null);
  }

  private static String words(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i % 2 == 0 ? "paris " : "the ");
    }
    return sb.toString();
  }

  @Test
  void aSentenceLevelPassRunsTheFirstWindowOnly() {
    RecordingNetwork network = new RecordingNetwork(false);
    String longText = words(100);
    try (EncoderPass pass = new EncoderPass(tokenizer("test-fused"), network, heads(true, true, false),
        SlidingWindows.withOverlap(40, 0.5), 4096)) {
      List<EncoderPass.Result> results = pass.run(List.of(longText, "paris"), new ReentrantLock());
      assertThat(network.batches).hasSize(1);
      assertThat(network.batches.get(0).size()).as("one sequence per text").isEqualTo(2);
      assertThat(network.batches.get(0).seq()).isEqualTo(40);
      assertThat(network.batches.get(0).caseIds()).isNull();
      assertThat(results.get(0).truncated()).isTrue();
      assertThat(results.get(0).tokens()).isEqualTo(102);
      assertThat(results.get(0).entities()).isNull();
      assertThat(results.get(0).sentiment().label()).isEqualTo("positive");
      assertThat(results.get(1).truncated()).isFalse();
    }
    assertThat(network.closed).isTrue();
  }

  @Test
  void anEntityPassRunsEveryWindow() {
    RecordingNetwork network = new RecordingNetwork(false);
    String longText = words(100);
    SlidingWindows windows = SlidingWindows.withOverlap(40, 0.5);
    try (EncoderPass pass = new EncoderPass(tokenizer("test-fused"), network, heads(false, false, true), windows,
        4096)) {
      EncoderPass.Result result = pass.run(List.of(longText), new ReentrantLock()).get(0);
      int sequences = network.batches.stream().mapToInt(BertNetwork.Batch::size).sum();
      assertThat(sequences).isEqualTo(windows.plan(100).windows().size()).isGreaterThan(1);
      assertThat(result.sentiment()).isNull();
      assertThat(result.entities()).hasSize(100).extracting(Entity::type).containsOnly("PER");
    }
  }

  @Test
  void caseIdsFollowTheTokensOfEachRowWithZerosElsewhere() {
    RecordingNetwork network = new RecordingNetwork(true);
    List<String> texts = List.of("Paris met NASA and iPhone", "ok");
    TextTokenizer reference = tokenizer("test-fused-cased");
    try (EncoderPass pass = new EncoderPass(tokenizer("test-fused-cased"), network, heads(true, true, true),
        SlidingWindows.withOverlap(40, 0.5), 4096)) {
      pass.run(texts, new ReentrantLock());
      BertNetwork.Batch batch = network.batches.get(0);
      assertThat(batch.size()).isEqualTo(2);
      // Sorted by length: "ok" may come first; find each row by its length.
      for (int r = 0; r < batch.size(); r++) {
        long[] row = Arrays.copyOfRange(batch.caseIds(), r * batch.seq(), (r + 1) * batch.seq());
        long real = Arrays.stream(Arrays.copyOfRange(batch.attentionMask(), r * batch.seq(), (r + 1) * batch.seq()))
            .sum();
        String text = texts.stream().filter(t -> reference.encode(t).size() + 2 == real).findFirst().orElseThrow();
        Tokens tokens = reference.encode(text);
        long[] expected = new long[batch.seq()];
        int[] classes = Casing.of(text, tokens);
        for (int t = 0; t < classes.length; t++) {
          expected[t + 1] = classes[t];
        }
        assertThat(row).as(text).containsExactly(expected);
      }
    } finally {
      reference.close();
    }
  }

  @Test
  void theAnalyzerTakesEachRoleFromItsPassAndMergesTheRest() {
    RecordingNetwork sentenceNetwork = new RecordingNetwork(false);
    RecordingNetwork entityNetwork = new RecordingNetwork(false);
    EncoderPass sentences = new EncoderPass(tokenizer("test-fused"), sentenceNetwork, heads(true, true, false),
        SlidingWindows.withOverlap(10, 0.5), 4096);
    EncoderPass entities = new EncoderPass(tokenizer("test-hf-ner"), entityNetwork, heads(false, false, true),
        SlidingWindows.withOverlap(40, 0.5), 4096);
    String text = "Paris and McDonald met the big team in Berlin";
    try (BertAnalyzer analyzer = new BertAnalyzer(List.of(sentences, entities), Map.of("encoder", "a+b"))) {
      Analysis a = analyzer.analyze(List.of(text)).get(0);
      assertThat(a.sentiment().label()).isEqualTo("positive");
      assertThat(a.classes().get(0).label()).isEqualTo("Sports");
      assertThat(a.entities()).extracting(Entity::text)
          .containsExactly("Paris", "and", "McDonald", "met", "the", "big", "team", "in", "Berlin");
      try (TextTokenizer uncased = tokenizer("test-fused"); TextTokenizer cased = tokenizer("test-hf-ner")) {
        int expected = Math.max(uncased.encode(text).size(), cased.encode(text).size()) + 2;
        assertThat(a.tokens()).isEqualTo(expected);
        assertThat(a.truncated()).as("longer than the sentence model's 10-token window").isTrue();
        assertThat(analyzer.tokenCount(text)).isEqualTo(Math.min(cased.encode(text).size() + 2, 40));
      }
      assertThat(analyzer.windows().maxTokens()).isEqualTo(40);
    }
    assertThat(sentenceNetwork.closed).isTrue();
    assertThat(entityNetwork.closed).isTrue();
  }

  @Test
  void everyRoleNeedsExactlyOnePass() {
    try (EncoderPass all = new EncoderPass(tokenizer("test-fused"), new RecordingNetwork(false),
        heads(true, true, true), SlidingWindows.withOverlap(40, 0.5), 4096);
         EncoderPass sentiment = new EncoderPass(tokenizer("test-fused"), new RecordingNetwork(false),
             heads(true, false, false), SlidingWindows.withOverlap(40, 0.5), 4096)) {
      assertThatThrownBy(() -> new BertAnalyzer(List.of(all, sentiment), Map.of()))
          .hasMessage("role sentiment is served by two passes");
      assertThatThrownBy(() -> new BertAnalyzer(List.of(sentiment), Map.of()))
          .hasMessageContaining("every role needs a pass");
    }
    try (TextTokenizer tokenizer = tokenizer("test-fused")) {
      assertThatThrownBy(() -> new EncoderPass(tokenizer, new RecordingNetwork(false), heads(false, false, false),
          SlidingWindows.withOverlap(40, 0.5), 4096))
          .hasMessageContaining("at least one head");
    }
  }
}
