package io.nlpstream.models.bert;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a token sequence longer than the encoder's window into overlapping windows and decides, for
 * every content token, which window's prediction to keep: the one where the token sits most
 * central, so that every kept prediction saw as much context on both sides as the windowing allows.
 *
 * <p>A window holds at most {@code maxTokens} tokens: {@code [CLS]}, up to {@code maxTokens - 2}
 * content tokens, {@code [SEP]}. Consecutive windows start {@code stride} content tokens apart; the
 * last window is aligned to the end of the text, so it is full as well. With stride {@code s} and
 * content capacity {@code c}, each kept prediction has at least {@code (c - s) / 2} tokens of context
 * on either side (except at the ends of the text).
 *
 * <p>Immutable and thread-safe.
 */
public final class SlidingWindows {

  /** Content tokens {@code [start, end)} of one window (special tokens not counted). */
  public record Window(int start, int end) {
    public int length() {
      return end - start;
    }
  }

  /**
   * The windows over one text and the window each content token's prediction is taken from.
   *
   * @param windows windows in text order; window 0 starts at token 0 (there is always at least one)
   * @param owner   {@code owner[t]} = index into {@code windows} of the window that predicts token {@code t}
   */
  public record Plan(List<Window> windows, int[] owner) {
    /** True when the text needs more than one window. */
    public boolean truncated() {
      return windows.size() > 1;
    }
  }

  private final int maxTokens;
  private final int stride;

  /**
   * @param maxTokens window size including {@code [CLS]} and {@code [SEP]}; at least 3
   * @param stride    content tokens between window starts; in {@code [1, maxTokens - 2]}
   */
  public SlidingWindows(int maxTokens, int stride) {
    if (maxTokens < 3) {
      throw new IllegalArgumentException("maxTokens must be >= 3, was " + maxTokens);
    }
    if (stride < 1 || stride > maxTokens - 2) {
      throw new IllegalArgumentException("stride must be in [1, " + (maxTokens - 2) + "], was " + stride);
    }
    this.maxTokens = maxTokens;
    this.stride = stride;
  }

  /**
   * Windows of {@code maxTokens} whose neighbours overlap by {@code overlap} of their content
   * (e.g. 0.5 or 0.25).
   */
  public static SlidingWindows withOverlap(int maxTokens, double overlap) {
    if (!(overlap >= 0 && overlap < 1)) {
      throw new IllegalArgumentException("overlap must be in [0, 1), was " + overlap);
    }
    int capacity = maxTokens - 2;
    return new SlidingWindows(maxTokens, Math.max(1, (int) Math.round(capacity * (1 - overlap))));
  }

  public int maxTokens() {
    return maxTokens;
  }

  public int stride() {
    return stride;
  }

  /** Content tokens per window. */
  public int capacity() {
    return maxTokens - 2;
  }

  /** Plans the windows over {@code contentTokens} tokens (special tokens excluded). */
  public Plan plan(int contentTokens) {
    if (contentTokens < 0) {
      throw new IllegalArgumentException("contentTokens must be >= 0, was " + contentTokens);
    }
    int capacity = capacity();
    List<Window> windows = new ArrayList<>();
    if (contentTokens <= capacity) {
      windows.add(new Window(0, contentTokens));
    } else {
      int start = 0;
      while (start + capacity < contentTokens) {
        windows.add(new Window(start, start + capacity));
        start += stride;
      }
      windows.add(new Window(contentTokens - capacity, contentTokens));
    }
    int[] owner = new int[contentTokens];
    // Windows are sorted by start and equally long, so a token's best window is found by walking
    // forward while the next window still contains it more centrally.
    int w = 0;
    for (int t = 0; t < contentTokens; t++) {
      while (w < windows.size() && windows.get(w).end() <= t) {
        w++;
      }
      int best = w;
      for (int v = w + 1; v < windows.size() && windows.get(v).start() <= t; v++) {
        if (margin(windows.get(v), t) > margin(windows.get(best), t)) {
          best = v;
        }
      }
      owner[t] = best;
    }
    return new Plan(List.copyOf(windows), owner);
  }

  /** Context on the scarcer side of token {@code t} within window {@code w}. */
  static int margin(Window w, int t) {
    return Math.min(t - w.start(), w.end() - 1 - t);
  }
}
