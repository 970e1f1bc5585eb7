package io.nlpstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Texts for {@code nlpstream bench}: real text of realistic, mixed lengths. From the project's data
 * directory when present (dev/validation splits only: tweets of tweet_eval, AG News descriptions,
 * DialogSum dev dialogues, interleaved 6:3:1), else the sample bundled in the jar. Repeated in order
 * until the requested count is reached.
 */
final class BenchInputs {

  static final String BUNDLED = "nlpstream/bench/sentences.txt";

  /** The texts and where they came from. */
  record Texts(List<String> texts, String origin) {}

  private BenchInputs() {}

  /** The default data directory: {@code ../shared/data} next to the checkout. */
  static Path defaultDataDir() {
    return NlpstreamHome.directory().resolve("../shared/data").normalize();
  }

  static Texts load(Path dataDir, int count) {
    List<String> pool = new ArrayList<>();
    String origin;
    if (dataDir != null && Files.isDirectory(dataDir.resolve("tweet_eval_sentiment"))) {
      List<String> tweets = lines(dataDir.resolve("tweet_eval_sentiment/val_text.txt"));
      List<String> news = agNewsDescriptions(dataDir.resolve("ag_news/train_sample_581.csv"));
      List<String> dialogues = dialogues(dataDir.resolve("dialogsum/dialogsum.dev.jsonl"));
      // 6 tweets, 3 news, 1 dialogue per round, so that batches mix short and long texts.
      for (int round = 0; round * 6 < tweets.size(); round++) {
        pool.addAll(tweets.subList(round * 6, Math.min(tweets.size(), round * 6 + 6)));
        pool.addAll(news.subList(Math.min(news.size(), round * 3), Math.min(news.size(), round * 3 + 3)));
        if (round < dialogues.size()) {
          pool.add(dialogues.get(round));
        }
      }
      origin = dataDir + " (tweet_eval validation, AG News sample, DialogSum dev)";
    } else {
      try (InputStream in = BenchInputs.class.getClassLoader().getResourceAsStream(BUNDLED)) {
        if (in == null) {
          throw new IllegalStateException("bundled bench sample " + BUNDLED + " missing from the jar");
        }
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
            .map(String::strip).filter(s -> !s.isEmpty() && !s.startsWith("#")).forEach(pool::add);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + BUNDLED, e);
      }
      origin = "the bundled sample (" + BUNDLED + ")";
    }
    if (pool.isEmpty()) {
      throw new IllegalStateException("no bench input texts in " + origin);
    }
    List<String> texts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      texts.add(pool.get(i % pool.size()));
    }
    return new Texts(texts, origin + ", " + Math.min(count, pool.size()) + " distinct texts");
  }

  private static List<String> lines(Path file) {
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    try (Stream<String> s = Files.lines(file, StandardCharsets.UTF_8)) {
      return s.map(String::strip).filter(l -> !l.isEmpty()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Third column of the AG News CSV, with its escaped line breaks turned into spaces. */
  private static List<String> agNewsDescriptions(Path file) {
    List<String> out = new ArrayList<>();
    for (String line : lines(file)) {
      String[] fields = line.split("\",\"", 3);
      if (fields.length == 3) {
        String description = fields[2].endsWith("\"") ? fields[2].substring(0, fields[2].length() - 1) : fields[2];
        out.add(description.replace("\"\"", "\"").replace("\\n", " ").replace("\\", " ")
            .replaceAll("\\s+", " ").strip());
      }
    }
    return out;
  }

  private static List<String> dialogues(Path file) {
    ObjectMapper json = new ObjectMapper();
    List<String> out = new ArrayList<>();
    for (String line : lines(file)) {
      try {
        JsonNode n = json.readTree(line);
        if (n.path("dialogue").isTextual()) {
          out.add(n.get("dialogue").asText());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("bad JSON line in " + file, e);
      }
    }
    return out;
  }
}
