package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import io.nlpstream.models.bert.Analysis.Entity;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntityDecoderTest {

  private static final List<String> LABELS =
      List.of("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC");
  private final EntityDecoder decoder = new EntityDecoder(LABELS);

  /** A text of space-separated words, one token per word, with offsets. */
  private record Text(String text, int[] starts, int[] ends, int[] wordIds) {
    static Text of(String... words) {
      String text = String.join(" ", words);
      int[] starts = new int[words.length];
      int[] ends = new int[words.length];
      int[] wordIds = new int[words.length];
      int pos = 0;
      for (int i = 0; i < words.length; i++) {
        starts[i] = pos;
        ends[i] = pos + words[i].length();
        wordIds[i] = i;
        pos = ends[i] + 1;
      }
      return new Text(text, starts, ends, wordIds);
    }
  }

  /** Probabilities putting {@code p} on the named label and the rest evenly on the others. */
  private static float[] row(String label, double p) {
    float[] row = new float[LABELS.size()];
    int at = LABELS.indexOf(label);
    for (int i = 0; i < row.length; i++) {
      row[i] = (float) (i == at ? p : (1 - p) / (row.length - 1));
    }
    return row;
  }

  private static float[][] rows(String... labels) {
    float[][] rows = new float[labels.length][];
    for (int i = 0; i < labels.length; i++) {
      rows[i] = row(labels[i], 0.9);
    }
    return rows;
  }

  private List<Entity> decode(Text t, float[][] probs) {
    List<Entity> entities = decoder.decode(t.text(), t.starts(), t.ends(), null, probs);
    for (Entity e : entities) {
      assertThat(t.text().substring(e.start(), e.end())).isEqualTo(e.text());
    }
    return entities;
  }

  @Test
  void decodesBioSpansWithOffsetsAndTypes() {
    Text t = Text.of("Angela", "Merkel", "visited", "New", "York", "City", "today");
    List<Entity> entities = decode(t, rows("B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-LOC", "O"));
    assertThat(entities).extracting(Entity::text, Entity::type, Entity::start, Entity::end)
        .containsExactly(
            tuple("Angela Merkel", "PER", 0, 13),
            tuple("New York City", "LOC", 22, 35));
  }

  @Test
  void scoreIsTheMeanProbabilityOfTheTypeOverTheSpan() {
    Text t = Text.of("Acme", "Corp");
    float[][] probs = {row("B-ORG", 0.9), row("I-ORG", 0.5)};
    // P(B-ORG) + P(I-ORG) per token: 0.9 + 0.0125, then 0.5 + 0.0625.
    double first = 0.9 + 0.1 / 8;
    double second = 0.5 + 0.5 / 8;
    assertThat(decode(t, probs)).singleElement()
        .satisfies(e -> assertThat(e.score()).isCloseTo((first + second) / 2, within(1e-6)));
  }

  @Test
  void anInsideTagWithoutBeginOfItsTypeStartsANewEntity() {
    Text t = Text.of("a", "Paris", "b", "Hilton", "Hotel", "c", "Acme", "Inc");
    List<Entity> entities = decode(t, rows("O", "I-LOC", "O", "B-PER", "I-ORG", "O", "I-ORG", "I-ORG"));
    assertThat(entities).extracting(Entity::text, Entity::type).containsExactly(
        tuple("Paris", "LOC"),
        tuple("Hilton", "PER"),
        tuple("Hotel", "ORG"),
        tuple("Acme Inc", "ORG"));
  }

  @Test
  void consecutiveBeginTagsAreSeparateEntities() {
    Text t = Text.of("Alice", "Bob", "Carol");
    assertThat(decode(t, rows("B-PER", "B-PER", "I-PER"))).extracting(Entity::text)
        .containsExactly("Alice", "Bob Carol");
  }

  @Test
  void anEntityAtTheEndOfTheTextIsClosed() {
    Text t = Text.of("flew", "to", "Berlin");
    assertThat(decode(t, rows("O", "O", "B-LOC"))).extracting(Entity::text).containsExactly("Berlin");
  }

  @Test
  void noTokensNoEntities() {
    assertThat(decoder.decode("", new int[0], new int[0], new int[0], new float[0][])).isEmpty();
    Text t = Text.of("just", "words");
    assertThat(decode(t, rows("O", "O"))).isEmpty();
  }

  @Test
  void withWordIdsTheFirstSubTokenDecidesForTheWholeWord() {
    // "Obermann lives in Kraków": Ober ##mann | lives | in | Krak ##ów
    String text = "Obermann lives in Kraków";
    int[] starts = {0, 4, 9, 15, 18, 22};
    int[] ends = {4, 8, 14, 17, 22, 24};
    int[] words = {0, 0, 1, 2, 3, 3};
    float[][] probs = rows("B-PER", "O", "O", "O", "O", "B-LOC");

    List<Entity> byWord = decoder.decode(text, starts, ends, words, probs);
    assertThat(byWord).extracting(Entity::text, Entity::type).containsExactly(
        tuple("Obermann", "PER"));

    List<Entity> byToken = decoder.decode(text, starts, ends, null, probs);
    assertThat(byToken).extracting(Entity::text).containsExactly("Ober", "ów");
  }

  @Test
  void aContinuationNeverEndsAMultiWordEntity() {
    String text = "Jean-Luc Picard";
    // jean - luc picard: words 0,1,2,3 with no sub-words; then check "Picard" = Pic ##ard
    int[] starts = {0, 4, 5, 9, 12};
    int[] ends = {4, 5, 8, 12, 15};
    int[] words = {0, 1, 2, 3, 3};
    float[][] probs = rows("B-PER", "I-PER", "I-PER", "I-PER", "B-ORG");
    List<Entity> entities = decoder.decode(text, starts, ends, words, probs);
    assertThat(entities).singleElement().satisfies(e -> {
      assertThat(e.text()).isEqualTo("Jean-Luc Picard");
      assertThat(e.type()).isEqualTo("PER");
    });
  }

  /** Tokens split like BERT's pre-tokenizer: at whitespace and around every punctuation mark. */
  private static Text bertWords(String text) {
    List<int[]> spans = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (Character.isLetterOrDigit(c)) {
        int j = i;
        while (j < text.length() && Character.isLetterOrDigit(text.charAt(j))) {
          j++;
        }
        spans.add(new int[] {i, j});
        i = j;
      } else {
        spans.add(new int[] {i, i + 1});
        i++;
      }
    }
    int[] starts = spans.stream().mapToInt(s -> s[0]).toArray();
    int[] ends = spans.stream().mapToInt(s -> s[1]).toArray();
    int[] words = new int[spans.size()];
    for (int w = 0; w < words.length; w++) {
      words[w] = w;
    }
    return new Text(text, starts, ends, words);
  }

  @Test
  void intraWordPunctuationNeverCutsAWord() {
    // Charles - Michael Friedek ( Germany ): the hyphen and "Michael" follow "Charles".
    Text t = bertWords("Charles-Michael Friedek (Germany)");
    List<Entity> entities = decoder.decode(t.text(), t.starts(), t.ends(), t.wordIds(),
        rows("B-PER", "O", "B-PER", "I-PER", "O", "B-LOC", "O"));
    assertThat(entities).extracting(Entity::text, Entity::type).containsExactly(
        tuple("Charles-Michael Friedek", "PER"), tuple("Germany", "LOC"));
  }

  @Test
  void aGluedAbbreviationIsOneWordWithItsFinalPeriod() {
    // the U . S . Treasury: U.S. is one word, decided by "U"; "Treasury" decides for itself.
    Text t = bertWords("the U.S. Treasury and Mo.-based N'Djamena");
    List<Entity> entities = decoder.decode(t.text(), t.starts(), t.ends(), t.wordIds(),
        rows("O", "B-LOC", "B-ORG", "I-ORG", "O", "B-ORG", "O", "B-MISC", "O", "B-LOC", "I-LOC", "B-ORG", "O", "B-LOC"));
    assertThat(entities).extracting(Entity::text, Entity::type).containsExactly(
        tuple("U.S.", "LOC"), tuple("Treasury", "ORG"), tuple("Mo.-based", "MISC"), tuple("N'Djamena", "ORG"));
  }

  @Test
  void possessivesAndPunctuationNextToWhitespaceDecideForThemselves() {
    // Magna ' s ( Reuters ) Google , rose
    Text t = bertWords("Magna's (Reuters) Google, rose");
    List<Entity> entities = decoder.decode(t.text(), t.starts(), t.ends(), t.wordIds(),
        rows("B-ORG", "O", "O", "O", "B-ORG", "O", "B-ORG", "O", "O"));
    assertThat(entities).extracting(Entity::text).containsExactly("Magna", "Reuters", "Google");
  }

  @Test
  void rejectsLabelsOutsideTheContract() {
    assertThatThrownBy(() -> new EntityDecoder(List.of("O", "B-PERSON", "I-PERSON")))
        .hasMessageContaining("B-PERSON");
    assertThatThrownBy(() -> new EntityDecoder(List.of("O", "PER")))
        .hasMessageContaining("'PER' is neither O nor B-<type>/I-<type>");
    assertThatThrownBy(() -> new EntityDecoder(List.of("B-PER", "I-PER"))).hasMessageContaining("lack O");
  }

  @Test
  void rejectsProbabilityRowsOfTheWrongWidth() {
    Text t = Text.of("x");
    assertThatThrownBy(() -> decoder.decode(t.text(), t.starts(), t.ends(), null, new float[][] {{1f, 0f}}))
        .hasMessageContaining("expected 9");
  }

  @Test
  void randomLabelSequencesGiveWellFormedEntities() {
    java.util.Random random = new java.util.Random(3);
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      words.add("w" + i);
    }
    Text t = Text.of(words.toArray(String[]::new));
    float[][] probs = new float[words.size()][];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = row(LABELS.get(random.nextInt(LABELS.size())), 0.6);
    }
    List<Entity> entities = decode(t, probs);
    assertThat(entities).isNotEmpty();
    for (int i = 0; i < entities.size(); i++) {
      Entity e = entities.get(i);
      assertThat(e.type()).isIn("PER", "ORG", "LOC", "MISC");
      assertThat(e.score()).isBetween(0.0, 1.0);
      if (i > 0) {
        assertThat(e.start()).isGreaterThan(entities.get(i - 1).end());
      }
    }
  }
}
