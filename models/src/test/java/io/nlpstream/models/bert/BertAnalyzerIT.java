package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nlpstream.models.bert.Analysis.ClassScore;
import io.nlpstream.models.bert.Analysis.Entity;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.runtime.ExecutionProvider;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.models.tokenizer.TextTokenizer;
import io.nlpstream.models.tokenizer.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The analyzer end to end on the real all-MiniLM-L6-v2 encoder and the random-weight fixture heads:
 * the heads' outputs are meaningless, but shapes, batching, windows and offsets are real.
 */
class BertAnalyzerIT {

  private static final String ID = "test-minilm-heads";
  private static final List<String> SENTENCES = List.of(
      "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
      "The café in São Paulo serves the best crème brûlée 😀!",
      "Apple Inc. reported record quarterly revenue of $90 billion, driven by iPhone sales in China and India.",
      "ok",
      "東京は日本の首都です。",
      "  Leading spaces, trailing spaces.   ",
      "Manchester United beat Liverpool 2-1 at Old Trafford, with Bruno Fernandes scoring the winner 👍🏽.",
      "",
      "NASA's Perseverance rover found organic molecules in Jezero crater on Mars.",
      "I really did not enjoy this film; the plot was thin and the acting wooden.");

  private static OrtRuntime runtime;
  private static BertAnalyzer analyzer;
  private static TextTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    runtime = OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 0));
    analyzer = (BertAnalyzer) ModelCatalog.open(Optional.empty()).openBertAnalyzer(ID, runtime, 2048);
    try (InputStream in = BertAnalyzerIT.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      tokenizer = TextTokenizer.fromJson("tokenizer", in.readAllBytes());
    }
  }

  @AfterAll
  static void close() {
    analyzer.close();
    tokenizer.close();
  }

  /** A text of well over 2000 tokens, with accents, emoji, CJK and names everywhere. */
  static String longText() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 80; i++) {
      sb.append("Paragraph ").append(i).append(": ").append(SENTENCES.get(i % SENTENCES.size())).append(' ')
          .append(SENTENCES.get((i * 7 + 3) % SENTENCES.size())).append("\n");
    }
    return sb.toString();
  }

  @Test
  void resultsHaveTheContractShapes() {
    List<Analysis> results = analyzer.analyze(SENTENCES);
    assertThat(results).hasSize(SENTENCES.size());
    for (int i = 0; i < results.size(); i++) {
      Analysis a = results.get(i);
      String text = SENTENCES.get(i);
      assertThat(a.sentiment().label()).isIn("negative", "neutral", "positive");
      assertThat(a.sentiment().score()).isBetween(1.0 / 3, 1.0);
      assertThat(a.classes()).extracting(ClassScore::label)
          .containsExactlyInAnyOrder("World", "Sports", "Business", "Sci/Tech");
      assertThat(a.classes()).extracting(ClassScore::score).isSortedAccordingTo((x, y) -> Double.compare(y, x));
      assertThat(a.classes().stream().mapToDouble(ClassScore::score).sum()).isCloseTo(1.0, within(1e-5));
      assertThat(a.truncated()).isFalse();
      assertThat(a.tokens()).isEqualTo(tokenizer.encode(text).size() + 2);
      assertThat(analyzer.tokenCount(text)).isEqualTo(a.tokens());
      assertEntitiesWellFormed(text, a.entities());
    }
    assertThat(results.get(7).entities()).as("empty text").isEmpty();
    assertThat(results.get(7).tokens()).isEqualTo(2);
    assertThat(results.stream().mapToInt(a -> a.entities().size()).sum())
        .as("random heads tag plenty of tokens").isGreaterThan(5);
  }

  private static void assertEntitiesWellFormed(String text, List<Entity> entities) {
    int previousEnd = 0;
    for (Entity e : entities) {
      assertThat(text.substring(e.start(), e.end())).isEqualTo(e.text());
      assertThat(e.text()).isNotBlank();
      assertThat(e.type()).isIn("PER", "ORG", "LOC", "MISC");
      assertThat(e.score()).isBetween(0.0, 1.0);
      assertThat(e.start()).isGreaterThanOrEqualTo(previousEnd);
      previousEnd = e.end();
    }
  }

  @Test
  void batchedResultsEqualOneAtATimeInInputOrder() {
    List<String> texts = new ArrayList<>(SENTENCES);
    texts.add(longText());
    texts.addAll(SENTENCES.subList(0, 3)); // duplicates land in different batch positions
    List<Analysis> batched = analyzer.analyze(texts);
    assertThat(batched).hasSize(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      Analysis alone = analyzer.analyze(List.of(texts.get(i))).get(0);
      assertSame(batched.get(i), alone);
    }
    // The same results when each window is its own batch (budget below one window).
    try (BertAnalyzer tiny = (BertAnalyzer) ModelCatalog.open(Optional.empty()).openBertAnalyzer(ID, runtime, 1)) {
      List<Analysis> unbatched = tiny.analyze(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertSame(batched.get(i), unbatched.get(i));
      }
    }
  }

  private static void assertSame(Analysis a, Analysis b) {
    assertThat(a.sentiment().label()).isEqualTo(b.sentiment().label());
    assertThat(a.sentiment().score()).isCloseTo(b.sentiment().score(), within(1e-4));
    assertThat(a.classes()).extracting(ClassScore::label).isEqualTo(b.classes().stream().map(ClassScore::label).toList());
    for (int k = 0; k < a.classes().size(); k++) {
      assertThat(a.classes().get(k).score()).isCloseTo(b.classes().get(k).score(), within(1e-4));
    }
    assertThat(a.truncated()).isEqualTo(b.truncated());
    assertThat(a.tokens()).isEqualTo(b.tokens());
    assertThat(a.entities()).hasSameSizeAs(b.entities());
    for (int k = 0; k < a.entities().size(); k++) {
      Entity x = a.entities().get(k);
      Entity y = b.entities().get(k);
      assertThat(List.of(x.text(), x.type(), x.start(), x.end())).isEqualTo(List.of(y.text(), y.type(), y.start(), y.end()));
      assertThat(x.score()).isCloseTo(y.score(), within(1e-4));
    }
  }

  @Test
  void longTextsAreWindowedWithEntitiesOverTheWholeText() {
    String text = longText();
    Tokens tokens = tokenizer.encode(text);
    assertThat(tokens.size()).isGreaterThan(2000);
    SlidingWindows.Plan plan = analyzer.windows().plan(tokens.size());
    assertThat(plan.windows().size()).isGreaterThan(8);

    Analysis a = analyzer.analyze(List.of(text)).get(0);
    assertThat(a.truncated()).isTrue();
    assertThat(a.tokens()).isEqualTo(tokens.size() + 2);
    assertThat(analyzer.tokenCount(text)).isEqualTo(256);
    assertEntitiesWellFormed(text, a.entities());
    int lastWindowStartChar = tokens.starts()[plan.windows().get(plan.windows().size() - 1).start()];
    assertThat(a.entities()).anySatisfy(e -> assertThat(e.start()).isGreaterThan(lastWindowStartChar));
    assertThat(a.entities().get(a.entities().size() - 1).end()).isGreaterThan(text.length() * 9 / 10);
  }

  @Test
  void sentenceHeadsSeeTheFirstWindowOnly() {
    // Words that are one token each, so the first window is exactly the first 254 words.
    String[] words = "the cat sat on a mat and then the dog ran to the park with his friend".split(" ");
    StringBuilder text = new StringBuilder();
    StringBuilder firstWindow = new StringBuilder();
    for (int i = 0; i < 600; i++) {
      text.append(words[i % words.length]).append(' ');
      if (i < analyzer.windows().capacity()) {
        firstWindow.append(words[i % words.length]).append(' ');
      }
    }
    assertThat(tokenizer.encode(text.toString()).size()).isEqualTo(600);

    Analysis whole = analyzer.analyze(List.of(text.toString())).get(0);
    Analysis prefix = analyzer.analyze(List.of(firstWindow.toString())).get(0);
    assertThat(whole.truncated()).isTrue();
    assertThat(prefix.truncated()).isFalse();
    assertThat(whole.sentiment().label()).isEqualTo(prefix.sentiment().label());
    assertThat(whole.sentiment().score()).isCloseTo(prefix.sentiment().score(), within(1e-4));
    for (int k = 0; k < whole.classes().size(); k++) {
      assertThat(whole.classes().get(k)).usingRecursiveComparison()
          .withComparatorForType((x, y) -> Math.abs(x - y) < 1e-4 ? 0 : Double.compare(x, y), Double.class)
          .isEqualTo(prefix.classes().get(k));
    }
  }

  @Test
  void eachTokenIsPredictedInTheWindowWhereItIsMostCentral() {
    // One token per word, so any window's substring tokenizes to exactly that window's tokens.
    String[] words = "paris london apple berlin john smith visited the big city of new york with mary".split(" ");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 600; i++) {
      sb.append(words[(i * 7) % words.length]).append(' ');
    }
    String text = sb.toString();
    Tokens tokens = tokenizer.encode(text);
    assertThat(tokens.size()).isEqualTo(600);
    SlidingWindows.Plan plan = analyzer.windows().plan(tokens.size());
    int w = 1;
    SlidingWindows.Window window = plan.windows().get(w);
    int firstOwned = -1;
    int lastOwned = -1;
    for (int t = 0; t < tokens.size(); t++) {
      if (plan.owner()[t] == w) {
        firstOwned = firstOwned < 0 ? t : firstOwned;
        lastOwned = t;
      }
    }
    assertThat(firstOwned).isGreaterThan(window.start());
    assertThat(lastOwned).isLessThan(window.end() - 1);

    int shift = tokens.starts()[window.start()];
    String windowText = text.substring(shift, tokens.ends()[window.end() - 1]);
    int from = tokens.starts()[firstOwned + 1];
    int to = tokens.ends()[lastOwned];
    List<Entity> inLongText = analyzer.analyze(List.of(text)).get(0).entities().stream()
        .filter(e -> e.start() >= from && e.end() <= to).toList();
    List<Entity> inWindowAlone = analyzer.analyze(List.of(windowText)).get(0).entities().stream()
        .map(e -> new Entity(e.text(), e.type(), e.start() + shift, e.end() + shift, e.score()))
        .filter(e -> e.start() >= from && e.end() <= to).toList();
    assertThat(inLongText).isNotEmpty();
    assertThat(inLongText).hasSameSizeAs(inWindowAlone);
    for (int k = 0; k < inLongText.size(); k++) {
      Entity x = inLongText.get(k);
      Entity y = inWindowAlone.get(k);
      assertThat(List.of(x.text(), x.type(), x.start(), x.end())).isEqualTo(List.of(y.text(), y.type(), y.start(), y.end()));
      assertThat(x.score()).isCloseTo(y.score(), within(1e-4));
    }
  }

  @Test
  void concurrentCallersGetTheSameResultsAsSequentialOnes() throws Exception {
    List<Analysis> expected = analyzer.analyze(SENTENCES);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<Analysis>>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        futures.add(pool.submit(() -> analyzer.analyze(SENTENCES)));
      }
      for (Future<List<Analysis>> f : futures) {
        List<Analysis> got = f.get();
        for (int i = 0; i < got.size(); i++) {
          assertSame(expected.get(i), got.get(i));
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void emptyInputMakesNoCallAndClosedAnalyzersRefuseWork() {
    assertThat(analyzer.analyze(List.of())).isEmpty();
    BertAnalyzer other = (BertAnalyzer) ModelCatalog.open(Optional.empty()).openBertAnalyzer(ID, runtime, 512);
    other.close();
    other.close();
    assertThatThrownBy(() -> other.analyze(List.of("x"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> other.tokenCount("x")).isInstanceOf(IllegalStateException.class);
  }
}
