package io.nlpstream.models.bert;

import io.nlpstream.models.bert.Analysis.Entity;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Turns per-token IOB2 label probabilities into entity spans over the original text.
 *
 * <p>Decoding rules:
 * <ul>
 *   <li>Each token takes its most probable label. {@code B-X} starts an entity of type X; {@code
 *       I-X} continues the open entity when it has type X and otherwise starts a new one (lenient
 *       IOB2, as seqeval does); {@code O} closes the open entity.</li>
 *   <li>When word ids are given, the first token of a word decides for the whole word (Hugging
 *       Face's "first" aggregation): continuation tokens extend or stay outside the entity their
 *       word's first token is in, and never start or end one. A model trained with labels on first
 *       sub-tokens only predicts noise on continuations, and one trained on all sub-tokens predicts
 *       the same label, so this is right for both and never cuts a word. A word here is what the
 *       tokenizer's pre-tokenizer makes of it (WordPiece {@code ##...} pieces share its word id),
 *       widened over intra-word punctuation: BERT's pre-tokenizer splits {@code U.S.},
 *       {@code Ontario-based}, {@code N'Djamena} or {@code AT&T} into words at every punctuation
 *       mark, while NER data (CoNLL-2003) and the models trained on it label such a
 *       whitespace-free run as one word. So a connector ({@code - . ' & /}, the typographic
 *       apostrophe and hyphens) glued on both sides to its neighbours, the token glued after it, and
 *       the final period of a glued abbreviation ({@code U.S.}: a single letter after a connector)
 *       continue the word before them. A possessive ({@code 's}) and punctuation with whitespace on
 *       either side ({@code (Reuters)}, {@code Google,}) still decide for themselves.
 *       Without word ids every token is decoded on its own.</li>
 *   <li>An entity spans from its first token's start to its last token's end (UTF-16 offsets),
 *       its text is that substring of the original text, and its score is the mean over its tokens
 *       of P(B-X) + P(I-X): the probability that the token belongs to an entity of type X.</li>
 * </ul>
 * Callers pass content tokens only, so special tokens never enter a span.
 *
 * <p>Immutable and thread-safe.
 */
public final class EntityDecoder {

  /** Entity types the {@link Analysis.Entity} contract allows. */
  public static final Set<String> TYPES = Set.of("PER", "ORG", "LOC", "MISC");

  private final List<String> labels;
  /** Per label: entity type index into {@link #types}, or -1 for O. */
  private final int[] typeOf;
  private final boolean[] begins;
  private final List<String> types = new ArrayList<>();
  /** Per type: label indices of B-X and I-X (-1 if absent). */
  private final int[][] labelsOfType;

  /**
   * @param labels the model's entity labels in output order: {@code O} and {@code B-X}/{@code I-X}
   *               with X in {@link #TYPES}
   * @throws IllegalArgumentException naming the offending label
   */
  public EntityDecoder(List<String> labels) {
    this.labels = List.copyOf(labels);
    int n = this.labels.size();
    typeOf = new int[n];
    begins = new boolean[n];
    for (int i = 0; i < n; i++) {
      String label = this.labels.get(i);
      if (label.equals("O")) {
        typeOf[i] = -1;
        continue;
      }
      if (label.length() < 3 || (!label.startsWith("B-") && !label.startsWith("I-"))) {
        throw new IllegalArgumentException("entity label '" + label + "' is neither O nor B-<type>/I-<type>");
      }
      String type = label.substring(2);
      if (!TYPES.contains(type)) {
        throw new IllegalArgumentException("entity label '" + label + "' has type " + type + ", expected one of "
            + List.of("PER", "ORG", "LOC", "MISC"));
      }
      if (!types.contains(type)) {
        types.add(type);
      }
      typeOf[i] = types.indexOf(type);
      begins[i] = label.startsWith("B-");
    }
    if (this.labels.indexOf("O") < 0) {
      throw new IllegalArgumentException("entity labels " + this.labels + " lack O");
    }
    labelsOfType = new int[types.size()][];
    for (int t = 0; t < types.size(); t++) {
      labelsOfType[t] = new int[] {
          this.labels.indexOf("B-" + types.get(t)), this.labels.indexOf("I-" + types.get(t))};
    }
  }

  public List<String> labels() {
    return labels;
  }

  /**
   * Decodes entities.
   *
   * @param text    the original text
   * @param starts  UTF-16 start offset of each token in {@code text}
   * @param ends    UTF-16 end offset of each token
   * @param wordIds word id of each token, or {@code null} to decode token by token
   * @param probs   {@code probs[t][label]}: label probabilities of token t (rows sum to 1)
   * @return entities in text order
   */
  public List<Entity> decode(String text, int[] starts, int[] ends, int[] wordIds, float[][] probs) {
    Objects.requireNonNull(text, "text");
    int n = probs.length;
    if (starts.length != n || ends.length != n || (wordIds != null && wordIds.length != n)) {
      throw new IllegalArgumentException("offsets, word ids and probabilities differ in length");
    }
    for (float[] row : probs) {
      if (row.length != labels.size()) {
        throw new IllegalArgumentException("a token has " + row.length + " label probabilities, expected "
            + labels.size() + " " + labels);
      }
    }
    boolean[] continues = wordIds == null ? new boolean[n] : continuations(text, starts, ends, wordIds);
    List<Entity> entities = new ArrayList<>();
    int openType = -1;
    int openFirst = -1;
    double openScore = 0;
    for (int t = 0; t <= n; t++) {
      boolean continuation = t < n && continues[t];
      int type;
      boolean begin;
      if (t == n) {
        type = -1;
        begin = false;
      } else if (continuation) {
        type = openType;
        begin = false;
      } else {
        int label = argmax(probs[t]);
        type = typeOf[label];
        begin = begins[label];
      }
      boolean extend = type >= 0 && type == openType && !begin;
      if (!extend && openType >= 0) {
        entities.add(entity(text, starts, ends, openType, openFirst, t - 1, openScore));
        openType = -1;
      }
      if (type < 0) {
        continue;
      }
      if (!extend) {
        openType = type;
        openFirst = t;
        openScore = 0;
      }
      openScore += typeProbability(probs[t], type);
    }
    return entities;
  }

  /** Connectors joining the parts of one word when glued to both neighbours (see the class comment). */
  private static final String CONNECTORS = "-.'&/\u2019\u2010\u2011";

  /**
   * Per token: whether it continues the word of the token before it, i.e. has the same word id, or
   * is intra-word punctuation or what follows it in a run without whitespace (class comment).
   */
  static boolean[] continuations(String text, int[] starts, int[] ends, int[] wordIds) {
    int n = wordIds.length;
    boolean[] continues = new boolean[n];
    for (int t = 1; t < n; t++) {
      if (wordIds[t] == wordIds[t - 1]) {
        continues[t] = true;
      } else if (starts[t] == ends[t - 1] && ends[t - 1] > starts[t - 1]) { // glued to the previous token
        boolean sandwiched = connector(text, starts, ends, t) && t + 1 < n && starts[t + 1] == ends[t]
            && ends[t + 1] > starts[t + 1] && !possessive(text, starts, ends, t);
        boolean afterConnector = continues[t - 1] && connector(text, starts, ends, t - 1);
        // U.S.: the final period after a single letter that itself followed a connector (not after
        // the last one-letter WordPiece of an ordinary word: "Monday." stays two words).
        boolean abbreviationEnd = ends[t] - starts[t] == 1 && text.charAt(starts[t]) == '.'
            && continues[t - 1] && ends[t - 1] - starts[t - 1] == 1 && Character.isLetter(text.charAt(starts[t - 1]))
            && t >= 2 && wordIds[t - 1] != wordIds[t - 2] && connector(text, starts, ends, t - 2);
        continues[t] = sandwiched || afterConnector || abbreviationEnd;
      }
    }
    return continues;
  }

  private static boolean connector(String text, int[] starts, int[] ends, int t) {
    return ends[t] - starts[t] == 1 && CONNECTORS.indexOf(text.charAt(starts[t])) >= 0;
  }

  /** An apostrophe followed by a lone {@code s} that ends the run: English possessive. */
  private static boolean possessive(String text, int[] starts, int[] ends, int t) {
    char c = text.charAt(starts[t]);
    if (c != '\'' && c != '\u2019' || t + 1 >= starts.length) {
      return false;
    }
    boolean loneS = ends[t + 1] - starts[t + 1] == 1 && Character.toLowerCase(text.charAt(starts[t + 1])) == 's';
    boolean runEnds = t + 2 >= starts.length || starts[t + 2] != ends[t + 1];
    return loneS && runEnds;
  }

  private Entity entity(String text, int[] starts, int[] ends, int type, int first, int last, double scoreSum) {
    int start = starts[first];
    int end = ends[last];
    double score = scoreSum / (last - first + 1);
    return new Entity(text.substring(start, end), types.get(type), start, end, Math.min(1.0, score));
  }

  private double typeProbability(float[] p, int type) {
    double sum = 0;
    for (int label : labelsOfType[type]) {
      if (label >= 0) {
        sum += p[label];
      }
    }
    return sum;
  }

  private static int argmax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }
}
