import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.models.eval.DatasetFiles;
import io.nlpstream.models.eval.ReplyExample;
import io.nlpstream.models.eval.SummaryExample;
import io.nlpstream.models.gpt.GenerationKind;
import io.nlpstream.models.gpt.PromptTemplate;
import io.nlpstream.models.gpt.PromptTemplates;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes the GPT stage's training and dev data exactly as the Java runtime will: the data sets
 * are read with the project's own readers ({@link DatasetFiles}), each input is sanitized and
 * rendered with the runtime's built-in {@code plain} templates ({@link PromptTemplates#plain()}),
 * and the prompt is tokenized by DJL with the bundle's tokenizer.json, cut to fit the context the
 * way {@code PromptEncoder} cuts it (summaries keep the start of the input, replies its end).
 * Targets are tokenized without special tokens; the trainer appends the EOS.
 *
 * <p>Reply inputs are the conversation's turns so far, oldest first, one per line
 * ({@code String.join("\n", turns)}); the target is the next turn.
 *
 * <p>Output: one JSON object per example and line in OUT_DIR/{train,dev}.jsonl:
 * {@code src, split, kind, id, prompt (ids), target (ids), truncated, input_tokens}, and
 * OUT_DIR/texts.jsonl with the raw input texts (for the dev-overlap filter).
 *
 * <pre>
 * java -cp "models/target/classes:$(cat cp.txt)" models/training/gpt/EncodeDataset.java \
 *     TOKENIZER_JSON DATA_DIR OUT_DIR CONTEXT MAX_TARGET_TOKENS
 * </pre>
 */
public class EncodeDataset {

  static final ObjectMapper JSON = new ObjectMapper();
  static HuggingFaceTokenizer tokenizer;
  static List<String> specials = new ArrayList<>();
  static int context;
  static int maxTarget;

  public static void main(String[] args) throws Exception {
    Path tokenizerJson = Path.of(args[0]);
    Path data = Path.of(args[1]);
    Path out = Path.of(args[2]);
    context = Integer.parseInt(args[3]);
    maxTarget = Integer.parseInt(args[4]);
    Files.createDirectories(out);
    System.setProperty("OPT_OUT_TRACKING", "true");
    for (JsonNode token : JSON.readTree(tokenizerJson.toFile()).path("added_tokens")) {
      if (token.path("special").asBoolean(false)) {
        specials.add(token.path("content").asText());
      }
    }
    tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
        Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false"));
    PromptTemplates templates = PromptTemplates.plain();
    try (BufferedWriter train = Files.newBufferedWriter(out.resolve("train.jsonl"), StandardCharsets.UTF_8);
         BufferedWriter dev = Files.newBufferedWriter(out.resolve("dev.jsonl"), StandardCharsets.UTF_8);
         BufferedWriter texts = Files.newBufferedWriter(out.resolve("texts.jsonl"), StandardCharsets.UTF_8)) {
      summaries(templates, data.resolve("samsum/train.jsonl"), "samsum", "train", train, texts);
      summaries(templates, data.resolve("dialogsum/dialogsum.train.jsonl"), "dialogsum", "train", train, texts);
      summaries(templates, data.resolve("samsum/val.csv"), "samsum", "dev", dev, texts);
      summaries(templates, data.resolve("dialogsum/dialogsum.dev.jsonl"), "dialogsum", "dev", dev, texts);
      replies(templates, data.resolve("dailydialog/dialogues_train.txt"), "train", train, texts);
      replies(templates, data.resolve("dailydialog/dialogues_validation.txt"), "dev", dev, texts);
    }
    tokenizer.close();
  }

  static void summaries(PromptTemplates templates, Path file, String src, String split, BufferedWriter out,
                        BufferedWriter texts) throws Exception {
    List<SummaryExample> examples = DatasetFiles.readSummaries(file);
    int n = 0;
    for (SummaryExample e : examples) {
      String id = src + "/" + e.id();
      write(out, templates.forKind(GenerationKind.SUMMARY), GenerationKind.SUMMARY, src, split, id, e.text(),
          e.references().get(0));
      texts.write(JSON.writeValueAsString(Map.of("id", id, "split", split, "text", e.text())));
      texts.newLine();
      n++;
    }
    System.err.printf("%s %s: %d summary examples%n", src, split, n);
  }

  static void replies(PromptTemplates templates, Path file, String split, BufferedWriter out, BufferedWriter texts)
      throws Exception {
    List<List<String>> dialogues = DatasetFiles.readDialogues(file);
    int n = 0;
    for (int d = 0; d < dialogues.size(); d++) {
      List<String> turns = dialogues.get(d);
      String dialogueId = "dailydialog/" + split + "-" + d;
      texts.write(JSON.writeValueAsString(Map.of("id", dialogueId, "split", split, "text", String.join("\n", turns))));
      texts.newLine();
      // The same pairs, in the same order, as DatasetFiles.readReplies.
      for (int i = 1; i < turns.size(); i++) {
        ReplyExample e = new ReplyExample(turns.subList(0, i), turns.get(i));
        write(out, templates.forKind(GenerationKind.REPLY), GenerationKind.REPLY, "dailydialog", split,
            dialogueId + "-" + i, String.join("\n", e.context()), e.reference());
        n++;
      }
    }
    System.err.printf("dailydialog %s: %d reply examples%n", split, n);
  }

  static void write(BufferedWriter out, PromptTemplate template, GenerationKind kind, String src, String split,
                    String id, String text, String target) throws Exception {
    long[] targetIds = encode(target);
    if (targetIds.length > maxTarget) {
      targetIds = Arrays.copyOf(targetIds, maxTarget);
    }
    // The runtime reserves max_new_tokens; here the target and its EOS take that room.
    Object[] prompt = promptIds(template, text, context - (targetIds.length + 1));
    ObjectNode node = JSON.createObjectNode();
    node.put("src", src).put("split", split).put("kind", kind.wireName()).put("id", id);
    ArrayNode p = node.putArray("prompt");
    for (long v : (long[]) prompt[0]) {
      p.add(v);
    }
    ArrayNode t = node.putArray("target");
    for (long v : targetIds) {
      t.add(v);
    }
    node.put("truncated", (Boolean) prompt[1]).put("input_tokens", (Integer) prompt[2]);
    out.write(JSON.writeValueAsString(node));
    out.newLine();
  }

  static long[] encode(String text) {
    return text.isEmpty() ? new long[0] : tokenizer.encode(text, false, false).getIds();
  }

  static long[] encodePrompt(String text) {
    return tokenizer.encode(text, true, false).getIds();
  }

  static String decode(long[] ids) {
    return ids.length == 0 ? "" : tokenizer.decode(ids, true);
  }

  /** PromptEncoder.encode's algorithm (io.nlpstream.models.gpt, package-private there). */
  static Object[] promptIds(PromptTemplate template, String text, int budget) {
    long max = (long) Math.max(0, budget) * 64;
    String bounded = text;
    if (text.length() > max) {
      int n = (int) max;
      bounded = template.keep() == PromptTemplate.Keep.START ? text.substring(0, n) : text.substring(text.length() - n);
    }
    String input = template.sanitize(bounded, specials);
    long[] ids = encodePrompt(template.render(input));
    long[] inputIds = encode(input);
    if (ids.length <= budget) {
      return new Object[] {ids, bounded.length() < text.length(), inputIds.length};
    }
    int keep = inputIds.length - (ids.length - budget);
    while (keep > 0) {
      long[] kept = template.keep() == PromptTemplate.Keep.START
          ? Arrays.copyOfRange(inputIds, 0, keep)
          : Arrays.copyOfRange(inputIds, inputIds.length - keep, inputIds.length);
      String keptText = template.sanitize(decode(kept), specials);
      ids = encodePrompt(template.render(keptText));
      if (ids.length <= budget) {
        return new Object[] {ids, true, inputIds.length};
      }
      keep -= ids.length - budget;
    }
    throw new IllegalStateException("template longer than the budget " + budget);
  }
}
