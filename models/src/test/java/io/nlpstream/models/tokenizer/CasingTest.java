package io.nlpstream.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CasingTest {

  private static int of(String s) {
    return Casing.of(s, 0, s.length());
  }

  @Test
  void classesFollowTheCasedLettersOfTheSpan() {
    assertThat(of("paris")).isEqualTo(Casing.LOWER);
    assertThat(of("Paris")).isEqualTo(Casing.TITLE);
    assertThat(of("A")).as("a single capital").isEqualTo(Casing.TITLE);
    assertThat(of("NASA")).isEqualTo(Casing.UPPER);
    assertThat(of("iPhone")).isEqualTo(Casing.MIXED);
    assertThat(of("McDonald")).isEqualTo(Casing.MIXED);
    assertThat(of("O'neil")).as("punctuation does not count").isEqualTo(Casing.TITLE);
    assertThat(of("B2B")).isEqualTo(Casing.UPPER);
    assertThat(of("3rd")).isEqualTo(Casing.LOWER);
  }

  @Test
  void spansWithoutCasedLettersAreNone() {
    assertThat(of("")).isEqualTo(Casing.NONE);
    assertThat(of("42")).isEqualTo(Casing.NONE);
    assertThat(of(",")).isEqualTo(Casing.NONE);
    assertThat(of("東京")).as("an uncased script").isEqualTo(Casing.NONE);
    assertThat(of("😀")).isEqualTo(Casing.NONE);
  }

  @Test
  void nonAsciiLettersAndSupplementaryCharactersAreClassified() {
    assertThat(of("Ünal")).isEqualTo(Casing.TITLE);
    assertThat(of("ÉCOLE")).isEqualTo(Casing.UPPER);
    assertThat(of("straße")).isEqualTo(Casing.LOWER);
    assertThat(of("Σοφία")).isEqualTo(Casing.TITLE);
    // U+10400 DESERET CAPITAL LONG I, a surrogate pair, then lower-case letters.
    assertThat(of("\uD801\uDC00bc")).isEqualTo(Casing.TITLE);
  }

  @Test
  void onlyTheGivenSpanCounts() {
    String text = "visit PARIS now";
    assertThat(Casing.of(text, 6, 11)).isEqualTo(Casing.UPPER);
    assertThat(Casing.of(text, 7, 11)).as("a WordPiece continuation's own span").isEqualTo(Casing.UPPER);
    assertThat(Casing.of(text, 0, 5)).isEqualTo(Casing.LOWER);
  }
}
