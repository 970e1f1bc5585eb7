package io.nlpstream.models.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nlpstream.models.eval.DatasetFiles.Format;
import io.nlpstream.models.eval.TaggedSentence.EntitySpan;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvalDataAndMetricsTest {

  private static Path resource(String name) {
    try {
      return Path.of(EvalDataAndMetricsTest.class.getResource("/eval/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void detectsEveryPublishedFormat() {
    assertThat(Format.detect(resource("sample.tsv"))).isEqualTo(Format.SST2_TSV);
    assertThat(Format.detect(resource("sample_text.txt"))).isEqualTo(Format.TWEET_EVAL);
    assertThat(Format.detect(resource("sample_ag.csv"))).isEqualTo(Format.AG_NEWS_CSV);
    assertThat(Format.detect(resource("sample.conll"))).isEqualTo(Format.CONLL2003);
    assertThat(Format.detect(resource("sample_wnut.conll"))).isEqualTo(Format.WNUT17);
    assertThat(Format.detect(resource("sample_samsum.csv"))).isEqualTo(Format.SAMSUM_CSV);
    assertThat(Format.detect(resource("sample.jsonl"))).isEqualTo(Format.DIALOGSUM_JSONL);
    assertThat(Format.detect(resource("dialogues_sample.txt"))).isEqualTo(Format.DAILYDIALOG);
  }

  @Test
  void readsClassificationFilesWithNamedLabels() {
    assertThat(DatasetFiles.readClassification(resource("sample.tsv"))).containsExactly(
        new LabelledText("hide new secretions from the parental units", "negative"),
        new LabelledText("the greatest musicians", "positive"));
    assertThat(DatasetFiles.readClassification(resource("sample_text.txt")))
        .extracting(LabelledText::label).containsExactly("positive", "neutral", "negative");
    List<LabelledText> ag = DatasetFiles.readClassification(resource("sample_ag.csv"));
    assertThat(ag).extracting(LabelledText::label).containsExactly("Business", "Sports");
    assertThat(ag.get(0).text()).isEqualTo("Wall St. Bears Claw Back Into the Black (Reuters). Reuters - Short-sellers,"
        + " Wall Street's dwindling band of ultra-cynics, are seeing green again.");
    assertThat(ag.get(1).text()).contains("$1 million");
  }

  @Test
  void readsConllIob1AsIob2AndWnutAsIs() {
    List<TaggedSentence> conll = DatasetFiles.readTagged(resource("sample.conll"));
    assertThat(conll).hasSize(2);
    assertThat(conll.get(0).tags()).containsExactly("B-ORG", "O", "B-MISC", "O", "O");
    assertThat(conll.get(1).spans()).containsExactly(new EntitySpan("PER", 0, 2), new EntitySpan("PER", 2, 3));
    List<TaggedSentence> wnut = DatasetFiles.readTagged(resource("sample_wnut.conll"));
    assertThat(wnut).hasSize(2);
    assertThat(wnut.get(0).spans()).containsExactly(
        new EntitySpan("corporation", 2, 3), new EntitySpan("location", 4, 6));
    assertThat(wnut.get(0).text()).isEqualTo("Stabilized by Apple in New York");
    assertThat(wnut.get(0).wordStarts()).containsExactly(0, 11, 14, 20, 23, 27);
  }

  @Test
  void readsSummariesWithEveryReferenceAndRepliesPerTurn() {
    List<SummaryExample> samsum = DatasetFiles.readSummaries(resource("sample_samsum.csv"));
    assertThat(samsum).hasSize(1); // the empty dialogue is skipped
    assertThat(samsum.get(0).text()).isEqualTo("A: Hi\nB: Hello, \"you\"\nA: bye");
    List<SummaryExample> dialogsum = DatasetFiles.readSummaries(resource("sample.jsonl"));
    assertThat(dialogsum.get(0).references()).containsExactly("They greet.", "Two people say hi.", "Greeting.");
    assertThat(dialogsum.get(1).references()).containsExactly("One leaves.");
    List<ReplyExample> replies = DatasetFiles.readReplies(resource("dialogues_sample.txt"));
    assertThat(replies).hasSize(3);
    assertThat(replies.get(1).context()).containsExactly("Good morning , sir .", "Morning .");
    assertThat(replies.get(1).reference()).isEqualTo("How are you ?");
  }

  @Test
  void rejectsAFileOfTheWrongKind() {
    assertThatThrownBy(() -> DatasetFiles.readTagged(resource("sample.tsv")))
        .hasMessageContaining("not a token-tagged data set");
  }

  @Test
  void readsTheSharedDevSplitsWithTheirPublishedSizes() {
    Path data = Path.of("../../shared/data");
    if (!Files.isDirectory(data)) {
      data = Path.of("../shared/data");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(data), "../shared/data not present");
    assertThat(DatasetFiles.readClassification(data.resolve("tweet_eval_sentiment/val_text.txt"))).hasSize(2000);
    assertThat(DatasetFiles.readClassification(data.resolve("ag_news/train_sample_581.csv"))).hasSize(581);
    assertThat(DatasetFiles.readTagged(data.resolve("conll2003/eng.testa"))).hasSize(3250);
    assertThat(DatasetFiles.readTagged(data.resolve("wnut17/emerging.dev.conll"))).hasSize(1009);
    assertThat(DatasetFiles.readSummaries(data.resolve("samsum/val.csv"))).hasSize(818);
    assertThat(DatasetFiles.readSummaries(data.resolve("dialogsum/dialogsum.dev.jsonl"))).hasSize(500);
    assertThat(DatasetFiles.readReplies(data.resolve("dailydialog/dialogues_validation.txt"))).hasSize(7069);
  }

  @Test
  void classificationScoresMatchHandComputedValues() {
    ClassificationScores s = new ClassificationScores(List.of("negative", "neutral", "positive"));
    s.add("positive", "positive");
    s.add("positive", "neutral");
    s.add("negative", "negative");
    s.add("neutral", "neutral");
    assertThat(s.accuracy()).isEqualTo(0.75);
    // recall: neg 1, neu 1, pos 0.5 ; precision: neg 1, neu 0.5, pos 1
    assertThat(s.macroRecall()).isCloseTo((1 + 1 + 0.5) / 3, within(1e-12));
    assertThat(s.macroF1()).isCloseTo((1 + 2 * 0.5 / 1.5 + 2 * 0.5 / 1.5) / 3, within(1e-12));
  }

  @Test
  void entityScoresNeedTypeAndBothBoundaries() {
    EntityScores s = new EntityScores();
    s.add(List.of(new EntitySpan("PER", 0, 2), new EntitySpan("LOC", 5, 6)),
        List.of(new EntitySpan("PER", 0, 2), new EntitySpan("LOC", 5, 7), new EntitySpan("ORG", 8, 9)));
    assertThat(s.precision()).isCloseTo(1.0 / 3, within(1e-12));
    assertThat(s.recall()).isEqualTo(0.5);
    assertThat(s.f1()).isCloseTo(0.4, within(1e-12));
    assertThat(s.f1("PER")).isEqualTo(1.0);
  }

  @Test
  void rougeMatchesHandComputedValuesAndTakesTheBestReference() {
    Rouge rouge = new Rouge();
    Rouge.Scores one = rouge.add("The cat sat on the mat.", List.of("the cat is on the mat", "dogs bark"));
    assertThat(one.rouge1()).isCloseTo(5.0 / 6, within(1e-12));
    assertThat(one.rouge2()).isCloseTo(0.6, within(1e-12));
    assertThat(one.rougeL()).isCloseTo(5.0 / 6, within(1e-12));
    Rouge.Scores none = rouge.add("completely different", List.of("the cat"));
    assertThat(none.rouge1()).isZero();
    assertThat(rouge.mean().rouge1()).isCloseTo(5.0 / 12, within(1e-12));
  }
}
