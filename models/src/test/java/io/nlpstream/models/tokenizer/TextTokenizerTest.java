package io.nlpstream.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real all-MiniLM-L6-v2 tokenizer (uncased WordPiece, strips accents) from its weight-carrier jar. */
class TextTokenizerTest {

  private static TextTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = TextTokenizerTest.class.getClassLoader()
        .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      assertThat(in).as("MiniLM tokenizer on the classpath").isNotNull();
      tokenizer = TextTokenizer.fromJson("classpath:all-minilm-l6-v2-tokenizer.json", in.readAllBytes());
    }
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  /** The original substring of each word: from its first token's start to its last token's end. */
  private static List<String> words(String text, Tokens tokens) {
    List<String> words = new ArrayList<>();
    int first = 0;
    for (int i = 1; i <= tokens.size(); i++) {
      if (i == tokens.size() || tokens.wordIds()[i] != tokens.wordIds()[first]) {
        words.add(text.substring(tokens.starts()[first], tokens.ends()[i - 1]));
        first = i;
      }
    }
    return words;
  }

  private static void assertWellFormed(String text, Tokens tokens) {
    for (int i = 0; i < tokens.size(); i++) {
      int s = tokens.starts()[i];
      int e = tokens.ends()[i];
      assertThat(s).isBetween(0, text.length());
      assertThat(e).isBetween(s + 1, text.length());
      assertThat(Character.isLowSurrogate(text.charAt(s))).as("token %d starts inside a surrogate pair", i).isFalse();
      assertThat(e == text.length() || !Character.isLowSurrogate(text.charAt(e)))
          .as("token %d ends inside a surrogate pair", i).isTrue();
      if (i > 0) {
        assertThat(s).as("token starts are ordered").isGreaterThanOrEqualTo(tokens.ends()[i - 1]);
      }
    }
  }

  @Test
  void specialTokenIdsAreBerts() {
    assertThat(tokenizer.clsId()).isEqualTo(101);
    assertThat(tokenizer.sepId()).isEqualTo(102);
    assertThat(tokenizer.padId()).isEqualTo(0);
  }

  @Test
  void encodesWithoutSpecialTokensOrTruncation() {
    String text = "word ".repeat(1500);
    Tokens tokens = tokenizer.encode(text);
    assertThat(tokens.size()).isEqualTo(1500);
    assertThat(tokens.ids()).doesNotContain(101L, 102L, 0L);
  }

  @Test
  void leadingAndRepeatedWhitespaceKeepOffsetsOnTheOriginal() {
    String text = "  \t Hello   world \n";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    assertThat(words(text, tokens)).containsExactly("Hello", "world");
    assertThat(tokens.starts()[0]).isEqualTo(4);
  }

  @Test
  void offsetsOfLowercasedAndAccentStrippedTokensIndexTheOriginal() {
    String text = "Café Ünïcode in São Paulo";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    assertThat(words(text, tokens)).containsExactly("Café", "Ünïcode", "in", "São", "Paulo");
  }

  @Test
  void decomposedAccentsStayInsideTheirToken() {
    String text = "Jose\u0301 Mari\u0301a";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    assertThat(words(text, tokens)).containsExactly("Jose\u0301", "Mari\u0301a");
  }

  @Test
  void emojiAndSurrogatePairsDoNotShiftLaterOffsets() {
    String text = "I 😀 love 👍🏽 New York 🗽!";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    List<String> words = words(text, tokens);
    assertThat(words).contains("I", "love", "New", "York", "!");
    int york = words.indexOf("York");
    assertThat(words.subList(york, words.size())).containsExactly("York", "🗽", "!");
  }

  @Test
  void cjkCharactersAreTokensOfTheirOwn() {
    String text = "東京は日本の首都です 😀 𠀋x";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    List<String> words = words(text, tokens);
    assertThat(words.subList(0, 5)).containsExactly("東", "京", "は", "日", "本");
    assertThat(words).contains("𠀋", "x");
  }

  @Test
  void loneSurrogatesDoNotShiftLaterOffsets() {
    String text = "a\uD800b lone \uDC00 surrogates here";
    Tokens tokens = tokenizer.encode(text);
    assertWellFormed(text, tokens);
    List<String> words = words(text, tokens);
    assertThat(words).containsSubsequence("lone", "surrogates", "here");
    assertThat(text.substring(tokens.starts()[tokens.size() - 1], tokens.ends()[tokens.size() - 1])).isEqualTo("here");
  }

  @Test
  void emptyAndBlankTextsHaveNoTokens() {
    assertThat(tokenizer.encode("").size()).isZero();
    assertThat(tokenizer.encode(" \n\t ").size()).isZero();
  }

  @Test
  void wordPieceContinuationsShareTheirWordId() {
    String text = "Tokenization unbelievably";
    Tokens tokens = tokenizer.encode(text);
    assertThat(tokens.size()).isGreaterThan(2);
    assertThat(tokens.wordIds()[0]).isEqualTo(tokens.wordIds()[1]);
    assertThat(words(text, tokens)).containsExactly("Tokenization", "unbelievably");
  }

  @Test
  void aFileThatIsNotATokenizerFailsNamingIt() {
    assertThatThrownBy(() -> TextTokenizer.fromJson("bundle/tokenizer.json", "{\"not\": 1}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("bundle/tokenizer.json: cannot load the tokenizer");
  }
}
