package io.nlpstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.app.EnrichmentApp;
import io.nlpstream.app.GenerationApp;
import io.nlpstream.models.eval.GeneratorEvaluation;
import io.nlpstream.models.eval.ReplyExample;
import io.nlpstream.models.eval.SummaryExample;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.topology.GptStage;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.eval.AnalyzerEvaluation;
import io.nlpstream.models.eval.DatasetFiles;
import io.nlpstream.models.eval.DatasetFiles.Format;
import io.nlpstream.models.eval.LabelledText;
import io.nlpstream.models.eval.TaggedSentence;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Scores the pipeline's runtime (the same analyzer or generator, from the same configuration) on a
 * labelled file in its published format, and prints one JSON object as the last line of output.
 * The GPT tasks ({@code summary}, {@code reply}) generate through the continuous batcher with the
 * {@code gpt.*} decoding settings and report ROUGE next to a baseline ({@link GeneratorEvaluation}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluates the runtime the pipeline uses on a labelled data file and prints one JSON object"
        + " as the last line: n and the task's metrics.",
        "Formats (detected from the file): SST-2 *.tsv (binary), tweet_eval *_text.txt (+ *_labels.txt),"
            + " AG News *.csv, CoNLL-2003 (4 columns, IOB1), WNUT-17 (2 columns, BIO); summary: SAMSum *.csv,"
            + " DialogSum *.jsonl (scored against every reference given); reply: DailyDialog dialogues_*.txt (each"
            + " turn after the first is the reference reply to the turns before it).",
        "summary and reply print n, rouge1, rouge2, rougeL (F, 0-1), tokens_per_s and a baseline: summary, the"
            + " input's first sentences cut to the data set's mean reference length; reply, the most frequent reply"
            + " of the training dialogues (--train, default dialogues_train.txt next to --data)."})
final class EvalCommand implements Callable<Integer> {

  /** The tasks of the BERT stage, then those of the GPT stage. */
  enum Task { sentiment, topic, ner, summary, reply }

  @Spec
  CommandSpec spec;

  @Mixin
  ConfigOptions configOptions;

  @Option(names = "--task", required = true, paramLabel = "TASK",
      description = "One of: ${COMPLETION-CANDIDATES}.")
  Task task;

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "The labelled data file.")
  Path data;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
      description = "Evaluate only the first N examples (0 = all).")
  int limit;

  @Option(names = "--train", paramLabel = "FILE",
      description = "reply only: the training dialogues of the baseline (default: dialogues_train.txt next to --data).")
  Path train;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(data)) {
      throw new ParameterException(spec.commandLine(), "--data " + data + ": no such file");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    NlpstreamConfig config = configOptions.load(Map.of());
    Map<String, Object> result;
    if (task == Task.summary || task == Task.reply) {
      result = generation(config, err);
    } else {
      result = analysis(config, err);
    }
    err.println();
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("data", data.toString());
    line.putAll(result);
    out.println(new ObjectMapper().writeValueAsString(line));
    out.flush();
    return 0;
  }

  private Map<String, Object> generation(NlpstreamConfig config, PrintWriter err) {
    List<List<String>> training = null;
    if (task == Task.reply) {
      Path trainFile = train != null ? train : data.toAbsolutePath().resolveSibling("dialogues_train.txt");
      if (!Files.isRegularFile(trainFile)) {
        throw new ParameterException(spec.commandLine(), (train != null ? "--train " : "the reply baseline needs the"
            + " training dialogues: ") + trainFile + ": no such file" + (train != null ? "" : " (give --train FILE)"));
      }
      training = DatasetFiles.readDialogues(trainFile);
    }
    List<SummaryExample> summaries = task == Task.summary ? limited(DatasetFiles.readSummaries(data)) : null;
    List<ReplyExample> replies = task == Task.reply ? limited(DatasetFiles.readReplies(data)) : null;
    int window = config.getInt(NlpstreamConfig.GPT_MAX_QUEUED);
    try (Generator generator = GenerationApp.openGenerator(config)) {
      GptStage stage = GptStage.start(generator, config);
      return task == Task.summary
          ? GeneratorEvaluation.summary(generator, summaries, stage.params(io.nlpstream.topology.Task.SUMMARY),
              window, progress(err))
          : GeneratorEvaluation.reply(generator, replies, training, stage.params(io.nlpstream.topology.Task.REPLY),
              window, progress(err));
    }
  }

  private Map<String, Object> analysis(NlpstreamConfig config, PrintWriter err) {
    Map<String, Object> result;
    try (TextAnalyzer analyzer = EnrichmentApp.openAnalyzer(config)) {
      result = switch (task) {
        case sentiment -> AnalyzerEvaluation.sentiment(analyzer, classification(), progress(err));
        case topic -> AnalyzerEvaluation.topic(analyzer, classification(), progress(err));
        case ner -> {
          List<TaggedSentence> sentences = limited(DatasetFiles.readTagged(data));
          yield AnalyzerEvaluation.ner(analyzer, sentences, Format.detect(data) == Format.WNUT17, progress(err));
        }
        case summary, reply -> throw new IllegalStateException("a GPT task: see generation()");
      };
    }
    return result;
  }

  private List<LabelledText> classification() {
    return limited(DatasetFiles.readClassification(data));
  }

  private <T> List<T> limited(List<T> all) {
    return limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
  }

  private IntConsumer progress(PrintWriter err) {
    long start = System.nanoTime();
    return done -> {
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf("\r%s: %d examples scored (%.0f/s)", task, done, done / Math.max(seconds, 1e-9));
      err.flush();
    };
  }
}
