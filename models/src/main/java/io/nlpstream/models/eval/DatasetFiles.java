package io.nlpstream.models.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the evaluation data sets in the formats they are published in (and kept in
 * {@code ../shared/data}); the held-back test splits have the same formats. The format is detected
 * from the file: see {@link Format#detect(Path)}.
 */
public final class DatasetFiles {

  /** The published formats this reader understands. */
  public enum Format {
    /** SST-2 (GLUE): TSV, header {@code sentence\tlabel}, 0 negative / 1 positive. */
    SST2_TSV,
    /** TweetEval: {@code *_text.txt}, labels in the sibling {@code *_labels.txt} (0 neg, 1 neu, 2 pos). */
    TWEET_EVAL,
    /** AG News: CSV without header: class index 1-4, title, description. */
    AG_NEWS_CSV,
    /** CoNLL-2003: {@code token POS chunk NER}, IOB1, blank line between sentences. */
    CONLL2003,
    /** WNUT-17: {@code token\ttag}, BIO, blank line between sentences. */
    WNUT17,
    /** SAMSum: CSV with header {@code id,summary,dialogue}. */
    SAMSUM_CSV,
    /** DialogSum: JSON lines with {@code dialogue} and {@code summary} or {@code summary1..N}. */
    DIALOGSUM_JSONL,
    /** DailyDialog: one dialogue per line, utterances ended by {@code __eou__}. */
    DAILYDIALOG;

    /** Detects the format from the file name and, where names are ambiguous, its first line. */
    public static Format detect(Path file) {
      String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
      if (name.endsWith(".tsv")) {
        return SST2_TSV;
      }
      if (name.endsWith("_text.txt")) {
        return TWEET_EVAL;
      }
      if (name.startsWith("dialogues_") && name.endsWith(".txt")) {
        return DAILYDIALOG;
      }
      if (name.endsWith(".jsonl") || name.endsWith(".json")) {
        return DIALOGSUM_JSONL;
      }
      String first = firstContentLine(file);
      if (name.endsWith(".csv")) {
        return first.startsWith("id,") || first.contains("dialogue") ? SAMSUM_CSV : AG_NEWS_CSV;
      }
      if (first.split("\t").length == 2) {
        return WNUT17;
      }
      if (first.split(" ").length == 4) {
        return CONLL2003;
      }
      throw new IllegalArgumentException("cannot tell the data set format of " + file
          + " (expected SST-2 *.tsv, tweet_eval *_text.txt, AG News or SAMSum *.csv, DialogSum *.jsonl,"
          + " DailyDialog dialogues_*.txt, CoNLL-2003 4-column or WNUT-17 2-column files)");
    }
  }

  private DatasetFiles() {}

  /** Sentiment or topic examples; labels are names: negative/neutral/positive, World/Sports/Business/Sci/Tech. */
  public static List<LabelledText> readClassification(Path file) {
    Format format = Format.detect(file);
    return switch (format) {
      case SST2_TSV -> readSst2(file);
      case TWEET_EVAL -> readTweetEval(file);
      case AG_NEWS_CSV -> readAgNews(file);
      default -> throw new IllegalArgumentException(file + " is " + format + ", not a classification data set");
    };
  }

  /** NER sentences with IOB2 tags (CoNLL-2003 IOB1 is converted). */
  public static List<TaggedSentence> readTagged(Path file) {
    Format format = Format.detect(file);
    return switch (format) {
      case CONLL2003 -> readColumns(file, " ", 3, true);
      case WNUT17 -> readColumns(file, "\t", 1, false);
      default -> throw new IllegalArgumentException(file + " is " + format + ", not a token-tagged data set");
    };
  }

  /** Summarisation examples with every reference given. */
  public static List<SummaryExample> readSummaries(Path file) {
    Format format = Format.detect(file);
    return switch (format) {
      case SAMSUM_CSV -> readSamsum(file);
      case DIALOGSUM_JSONL -> readDialogSum(file);
      default -> throw new IllegalArgumentException(file + " is " + format + ", not a summarisation data set");
    };
  }

  /** Reply examples: each turn after the first is a reference reply to the turns before it. */
  public static List<ReplyExample> readReplies(Path file) {
    Format format = Format.detect(file);
    if (format != Format.DAILYDIALOG) {
      throw new IllegalArgumentException(file + " is " + format + ", not a DailyDialog dialogues_*.txt file");
    }
    List<ReplyExample> out = new ArrayList<>();
    for (List<String> turns : readDialogues(file)) {
      for (int i = 1; i < turns.size(); i++) {
        out.add(new ReplyExample(turns.subList(0, i), turns.get(i)));
      }
    }
    return out;
  }

  /** The turns of each DailyDialog line (utterances split on {@code __eou__}, trimmed, empty ones dropped). */
  public static List<List<String>> readDialogues(Path file) {
    List<List<String>> dialogues = new ArrayList<>();
    for (String line : lines(file)) {
      List<String> turns = new ArrayList<>();
      for (String turn : line.split("__eou__")) {
        String t = turn.strip();
        if (!t.isEmpty()) {
          turns.add(t);
        }
      }
      if (!turns.isEmpty()) {
        dialogues.add(turns);
      }
    }
    return dialogues;
  }

  private static List<LabelledText> readSst2(Path file) {
    List<String> lines = lines(file);
    List<LabelledText> out = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      int tab = line.lastIndexOf('\t');
      if (tab < 0) {
        continue;
      }
      String label = switch (line.substring(tab + 1).strip()) {
        case "0" -> "negative";
        case "1" -> "positive";
        default -> throw new IllegalArgumentException(file + " line " + (i + 1) + ": label is not 0 or 1");
      };
      out.add(new LabelledText(line.substring(0, tab).strip(), label));
    }
    return out;
  }

  private static List<LabelledText> readTweetEval(Path textFile) {
    String name = textFile.getFileName().toString();
    Path labelFile = textFile.resolveSibling(name.substring(0, name.length() - "_text.txt".length()) + "_labels.txt");
    List<String> texts = lines(textFile);
    List<String> labels = lines(labelFile);
    if (texts.size() != labels.size()) {
      throw new IllegalArgumentException(textFile + " has " + texts.size() + " lines but " + labelFile
          + " has " + labels.size());
    }
    String[] names = {"negative", "neutral", "positive"};
    List<LabelledText> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      out.add(new LabelledText(texts.get(i).strip(), names[Integer.parseInt(labels.get(i).strip())]));
    }
    return out;
  }

  private static List<LabelledText> readAgNews(Path file) {
    String[] names = {"World", "Sports", "Business", "Sci/Tech"};
    List<LabelledText> out = new ArrayList<>();
    for (List<String> row : csvRows(file)) {
      if (row.size() < 3) {
        continue;
      }
      String title = agText(row.get(1));
      String description = agText(row.get(2));
      out.add(new LabelledText(title + ". " + description, names[Integer.parseInt(row.get(0).strip()) - 1]));
    }
    return out;
  }

  /** AG News escapes line breaks as a backslash (sometimes followed by 'n'), and keeps some HTML entities. */
  private static String agText(String raw) {
    return raw.replace("\\n", " ").replace("\\", " ")
        .replace(" #36;", "$").replace("#36;", "$").replace("&lt;", "<").replace("&gt;", ">")
        .replace("&amp;", "&").replace("#39;", "'").replace("quot;", "\"")
        .replaceAll("\\s+", " ").strip();
  }

  private static List<SummaryExample> readSamsum(Path file) {
    List<SummaryExample> out = new ArrayList<>();
    List<List<String>> rows = csvRows(file);
    List<String> header = rows.get(0);
    int id = header.indexOf("id");
    int summary = header.indexOf("summary");
    int dialogue = header.indexOf("dialogue");
    if (summary < 0 || dialogue < 0) {
      throw new IllegalArgumentException(file + ": SAMSum CSV needs columns summary and dialogue, header is " + header);
    }
    for (List<String> row : rows.subList(1, rows.size())) {
      String text = row.get(dialogue).replace("\r\n", "\n").strip();
      if (text.isEmpty()) {
        continue;
      }
      out.add(new SummaryExample(id >= 0 ? row.get(id) : String.valueOf(out.size()), text, List.of(row.get(summary).strip())));
    }
    return out;
  }

  private static List<SummaryExample> readDialogSum(Path file) {
    ObjectMapper json = new ObjectMapper();
    List<SummaryExample> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : lines(file)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = json.readTree(line);
      } catch (IOException e) {
        throw new IllegalArgumentException(file + " line " + lineNo + ": not JSON", e);
      }
      List<String> refs = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (f.getKey().matches("summary\\d*") && f.getValue().isTextual()) {
          refs.add(f.getValue().asText().strip());
        }
      }
      String text = node.path("dialogue").asText("").strip();
      if (text.isEmpty() || refs.isEmpty()) {
        continue;
      }
      out.add(new SummaryExample(node.path("fname").asText(String.valueOf(lineNo)), text, refs));
    }
    return out;
  }

  private static List<TaggedSentence> readColumns(Path file, String separator, int tagColumn, boolean iob1) {
    List<TaggedSentence> out = new ArrayList<>();
    List<String> words = new ArrayList<>();
    List<String> tags = new ArrayList<>();
    for (String line : lines(file)) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("-DOCSTART-")) {
        if (!words.isEmpty()) {
          out.add(new TaggedSentence(words, iob1 ? TaggedSentence.iob1ToIob2(tags) : tags));
          words = new ArrayList<>();
          tags = new ArrayList<>();
        }
        continue;
      }
      String[] cols = trimmed.split(separator);
      if (cols.length <= tagColumn) {
        throw new IllegalArgumentException(file + ": line has " + cols.length + " columns, expected "
            + (tagColumn + 1) + ": " + trimmed);
      }
      words.add(cols[0]);
      tags.add(cols[tagColumn]);
    }
    if (!words.isEmpty()) {
      out.add(new TaggedSentence(words, iob1 ? TaggedSentence.iob1ToIob2(tags) : tags));
    }
    return out;
  }

  private static List<List<String>> csvRows(Path file) {
    CsvMapper mapper = new CsvMapper();
    mapper.enable(CsvParser.Feature.WRAP_AS_ARRAY);
    CsvSchema schema = CsvSchema.emptySchema();
    List<List<String>> rows = new ArrayList<>();
    try (MappingIterator<List<String>> it = mapper.readerForListOf(String.class).with(schema)
        .readValues(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
      while (it.hasNext()) {
        rows.add(it.next());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read CSV " + file, e);
    }
    return rows;
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static String firstContentLine(Path file) {
    for (String line : lines(file)) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("-DOCSTART-")) {
        return t;
      }
    }
    throw new IllegalArgumentException(file + " is empty");
  }
}
