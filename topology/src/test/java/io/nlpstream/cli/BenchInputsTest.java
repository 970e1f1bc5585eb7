package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchInputsTest {

  @TempDir
  Path tmp;

  @Test
  void bundledSampleIsUsedWithoutADataDirectoryAndRepeatedToTheCount() {
    BenchInputs.Texts texts = BenchInputs.load(tmp.resolve("absent"), 500);
    assertThat(texts.texts()).hasSize(500).doesNotContainNull().allSatisfy(t -> assertThat(t).isNotBlank());
    assertThat(texts.origin()).contains(BenchInputs.BUNDLED);
    assertThat(texts.texts()).noneMatch(t -> t.startsWith("#"));
  }

  @Test
  void dataSetsAreInterleavedSixThreeOne() throws Exception {
    Files.createDirectories(tmp.resolve("tweet_eval_sentiment"));
    Files.createDirectories(tmp.resolve("ag_news"));
    Files.createDirectories(tmp.resolve("dialogsum"));
    StringBuilder tweets = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      tweets.append("tweet ").append(i).append('\n');
    }
    Files.writeString(tmp.resolve("tweet_eval_sentiment/val_text.txt"), tweets);
    Files.writeString(tmp.resolve("ag_news/train_sample_581.csv"),
        "\"3\",\"Title A\",\"News \"\"one\"\" \\\\ more\"\n\"1\",\"Title B\",\"News two\"\n\"2\",\"T\",\"News three\"\n"
            + "\"4\",\"T\",\"News four\"\n");
    Files.writeString(tmp.resolve("dialogsum/dialogsum.dev.jsonl"),
        "{\"fname\":\"dev_0\",\"dialogue\":\"#Person1#: hi\\n#Person2#: hello\"}\n");

    List<String> texts = BenchInputs.load(tmp, 14).texts();

    assertThat(texts.subList(0, 6)).containsExactly("tweet 0", "tweet 1", "tweet 2", "tweet 3", "tweet 4", "tweet 5");
    assertThat(texts.get(6)).isEqualTo("News \"one\" more");
    assertThat(texts.subList(7, 9)).containsExactly("News two", "News three");
    assertThat(texts.get(9)).isEqualTo("#Person1#: hi\n#Person2#: hello");
    assertThat(texts.subList(10, 14)).containsExactly("tweet 6", "tweet 7", "tweet 8", "tweet 9");
  }

  @Test
  void percentileIsNearestRank() {
    double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(PipelineLoad.percentile(sorted, 50)).isEqualTo(5);
    assertThat(PipelineLoad.percentile(sorted, 99)).isEqualTo(10);
    assertThat(PipelineLoad.percentile(new double[] {42}, 99)).isEqualTo(42);
  }
}
