package io.nlpstream.models.gpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** The cache re-layout that retirement and admission rely on, on numbers that encode their origin. */
class KvCacheTest {

  private static final int LAYERS = 2;
  private static final int HEADS = 2;
  private static final int DIM = 3;

  /** Value for (set, row, head, position, d): a distinct code, 0 never used. */
  private static float code(int set, int row, int head, int pos, int d) {
    return 10000 * (set + 1) + 1000 * row + 100 * head + 10 * pos + d + 1;
  }

  private static void fill(FloatBuffer[] buffers, int set, int rows, int len, int[] realLengths) {
    for (FloatBuffer b : buffers) {
      for (int r = 0; r < rows; r++) {
        for (int h = 0; h < HEADS; h++) {
          for (int p = 0; p < len; p++) {
            for (int d = 0; d < DIM; d++) {
              boolean padding = p < len - realLengths[r];
              b.put(((r * HEADS + h) * len + p) * DIM + d, padding ? -1 : code(set, r, h, p - (len - realLengths[r]), d));
            }
          }
        }
      }
    }
  }

  private static float at(FloatBuffer[] buffers, int rows, int len, int r, int h, int p, int d) {
    assertThat(buffers[0].capacity()).isEqualTo(rows * HEADS * len * DIM);
    return buffers[LAYERS * 2 - 1].get(((r * HEADS + h) * len + p) * DIM + d);
  }

  @Test
  void rebuildDropsRowsTrimsSharedPaddingAndLeftPadsJoiners() {
    KvCache cache = new KvCache(LAYERS, HEADS, DIM);
    // A prefill of 3 rows (real lengths 4, 2, 3) padded to 4 becomes the cache.
    fill(cache.staging(3, 4), 0, 3, 4, new int[] {4, 2, 3});
    cache.rebuild(new int[0], 0, new int[] {0, 1, 2});
    assertThat(cache.batch()).isEqualTo(3);
    assertThat(cache.length()).isEqualTo(4);
    // A step appends one position to each row.
    FloatBuffer[] present = cache.present(1);
    fill(present, 1, 3, 5, new int[] {5, 3, 4});
    cache.commit(1);
    assertThat(cache.length()).isEqualTo(5);

    // Row 0 (the longest) retires; rows 1 and 2 have real lengths 3 and 4: one column of shared padding goes.
    // A newcomer prefilled to length 2 joins.
    fill(cache.staging(1, 2), 2, 1, 2, new int[] {2});
    cache.rebuild(new int[] {1, 2}, 4, new int[] {0});
    assertThat(cache.batch()).isEqualTo(3);
    assertThat(cache.length()).isEqualTo(4);
    FloatBuffer[] past = cache.past();
    // Old row 1 (real 3) is new row 0: its own padding column (masked, never read), then its 3 positions.
    assertThat(at(past, 3, 4, 0, 1, 1, 2)).isEqualTo(code(1, 1, 1, 0, 2));
    assertThat(at(past, 3, 4, 0, 1, 3, 2)).isEqualTo(code(1, 1, 1, 2, 2));
    // Old row 2 (real 4) is new row 1: no padding.
    assertThat(at(past, 3, 4, 1, 0, 0, 0)).isEqualTo(code(1, 2, 0, 0, 0));
    assertThat(at(past, 3, 4, 1, 1, 3, 1)).isEqualTo(code(1, 2, 1, 3, 1));
    // The newcomer is row 2: two zeros, then its 2 positions.
    assertThat(at(past, 3, 4, 2, 0, 1, 0)).isZero();
    assertThat(at(past, 3, 4, 2, 0, 2, 0)).isEqualTo(code(2, 0, 0, 0, 0));
    assertThat(at(past, 3, 4, 2, 1, 3, 2)).isEqualTo(code(2, 0, 1, 1, 2));

    // A newcomer longer than the batch pads the batch instead.
    fill(cache.staging(1, 6), 3, 1, 6, new int[] {6});
    cache.rebuild(new int[] {0, 1, 2}, 4, new int[] {0});
    assertThat(cache.length()).isEqualTo(6);
    past = cache.past();
    assertThat(at(past, 4, 6, 1, 0, 1, 0)).isZero();
    assertThat(at(past, 4, 6, 1, 0, 2, 0)).isEqualTo(code(1, 2, 0, 0, 0));
    assertThat(at(past, 4, 6, 3, 1, 0, 2)).isEqualTo(code(3, 0, 1, 0, 2));

    cache.rebuild(new int[0], 0, new int[0]);
    assertThat(cache.batch()).isZero();
    assertThat(cache.past()[0].capacity()).isZero();
  }
}
