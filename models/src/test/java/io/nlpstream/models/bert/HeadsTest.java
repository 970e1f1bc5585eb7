package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nlpstream.models.bert.Analysis.ClassScore;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadsTest {

  @Test
  void classHeadGivesSoftmaxProbabilitiesHighestFirst() {
    ClassHead head = new ClassHead(List.of("World", "Sports", "Business", "Sci/Tech"));
    float[] logits = {9f, 9f, 1f, 2f, 3f, 0f}; // row at offset 2
    List<ClassScore> scores = head.scores(logits, 2);
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(0);
    assertThat(scores).extracting(ClassScore::label).containsExactly("Business", "Sports", "World", "Sci/Tech");
    assertThat(scores.get(0).score()).isCloseTo(Math.exp(3) / z, within(1e-6));
    assertThat(scores.get(3).score()).isCloseTo(1 / z, within(1e-6));
    assertThat(scores.stream().mapToDouble(ClassScore::score).sum()).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void softmaxIsStableForLargeLogits() {
    ClassHead head = new ClassHead(List.of("a", "b"));
    List<ClassScore> scores = head.scores(new float[] {1000f, 999f}, 0);
    assertThat(scores.get(0).score()).isCloseTo(1 / (1 + Math.exp(-1)), within(1e-6));
  }

  @Test
  void sentimentHeadReturnsTheMostProbableLabel() {
    SentimentHead head = new SentimentHead(List.of("negative", "neutral", "positive"));
    Analysis.Sentiment s = head.sentiment(new float[] {0f, 0f, 2f}, 0);
    assertThat(s.label()).isEqualTo("positive");
    assertThat(s.score()).isCloseTo(Math.exp(2) / (2 + Math.exp(2)), within(1e-6));
  }

  @Test
  void labelsOutsideTheContractAreRejected() {
    assertThatThrownBy(() -> new SentimentHead(List.of("neg", "pos"))).hasMessageContaining("'neg'");
    assertThatThrownBy(() -> new ClassHead(List.of("a"))).hasMessageContaining("at least two");
    assertThatThrownBy(() -> new ClassHead(List.of("a", "a"))).hasMessageContaining("not distinct");
  }
}
