package io.nlpstream.models.bert;

import java.util.List;
import java.util.Map;

/**
 * The BERT stage as the topology sees it: texts in, typed analyses out. One encoder pass per batch
 * feeds every head (sentiment, entities, classes).
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #analyze(List)} returns one {@link Analysis} per input text, in input order. It
 *       splits the list into length-sorted batches bounded by the configured token budget itself;
 *       callers decide <em>when</em> to call it (latency bound), not how to pad.</li>
 *   <li>Implementations are thread-safe: several stream threads may call concurrently. The
 *       production implementation serialises native calls per session so that ONNX Runtime's
 *       intra-op pool is not oversubscribed.</li>
 *   <li>A failure of the whole call throws {@link io.nlpstream.models.runtime.InferenceException}
 *       naming the model id and file. Callers isolate a bad record by retrying one at a time.</li>
 * </ul>
 * Ownership: the creator of an analyzer closes it; closing releases the native sessions.
 */
public interface TextAnalyzer extends AutoCloseable {

  /** Analyzes {@code texts}; result {@code i} belongs to {@code texts.get(i)}. */
  List<Analysis> analyze(List<String> texts);

  /**
   * Number of encoder tokens (special tokens included) this text costs in the first window,
   * capped at the window size. Used by batchers to account the token budget; cheap (tokenizer only).
   */
  int tokenCount(String text);

  /**
   * Model ids and versions used, by role: {@code encoder}, {@code sentiment}, {@code entities}, {@code
   * classes}. When roles come from several models, {@code encoder} lists their encoders joined by
   * {@code +}, in the order they run.
   */
  Map<String, String> models();

  @Override
  void close();
}
