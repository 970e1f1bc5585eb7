package io.nlpstream.models.gpt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The running batch's key/value cache in the Hugging Face layout: per layer one key and one value
 * tensor {@code [batch, kvHeads, length, headDim]}, rows left-padded to a common {@code length}
 * (padding masked out by the attention mask).
 *
 * <p>Memory: three sets of direct buffers, grown on demand and reused. {@code front} holds the
 * current cache and is fed as the next step's past; the step writes its present into {@code back};
 * the two are then swapped, so a step that keeps the batch as it is copies nothing. {@code staging}
 * receives the prefill of newly admitted sequences. {@link #rebuild} is the only copy: when rows
 * retire or join, it lays the kept rows of {@code front} and the chosen rows of {@code staging} out
 * anew in {@code back} (dropping the retired rows, left-padding everyone to the new common length,
 * trimming columns that are padding for every row) and swaps.
 *
 * <p>Buffers are plain direct memory, freed by the garbage collector; nothing to close. Not
 * thread-safe: owned by the decoding loop.
 */
final class KvCache {

  private final int regions;
  private final int rowStride; // floats per (row, head, position) = headDim
  private final int kvHeads;
  private final int headDim;

  private FloatBuffer[] front;
  private FloatBuffer[] back;
  private FloatBuffer[] staging;
  private int batch;
  private int length;
  private int stagingBatch;
  private int stagingLength;
  private final FloatBuffer[] empty;
  private float[] zeros = new float[0];

  KvCache(int layers, int kvHeads, int headDim) {
    this.regions = 2 * layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.rowStride = headDim;
    this.front = allocate(0);
    this.back = allocate(0);
    this.staging = allocate(0);
    this.empty = allocate(0);
  }

  private FloatBuffer[] allocate(long floats) {
    if (floats > Integer.MAX_VALUE / Float.BYTES) {
      throw new IllegalStateException("KV cache region of " + floats + " floats exceeds 2 GiB;"
          + " lower maxBatchSize or maxContextTokens");
    }
    FloatBuffer[] set = new FloatBuffer[regions];
    for (int i = 0; i < regions; i++) {
      set[i] = ByteBuffer.allocateDirect((int) floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
    return set;
  }

  private long floats(int rows, int len) {
    return (long) rows * kvHeads * len * headDim;
  }

  private FloatBuffer[] ensure(FloatBuffer[] set, long needed) {
    if (set[0].capacity() >= needed) {
      return set;
    }
    // Grow by half again, so a batch whose past grows by one token per step reallocates rarely.
    return allocate(Math.max(needed, Math.min((long) Integer.MAX_VALUE / Float.BYTES, set[0].capacity() * 3L / 2)));
  }

  private static FloatBuffer[] views(FloatBuffer[] set, long floats) {
    FloatBuffer[] v = new FloatBuffer[set.length];
    for (int i = 0; i < set.length; i++) {
      v[i] = set[i].slice(0, (int) floats);
    }
    return v;
  }

  int batch() {
    return batch;
  }

  int length() {
    return length;
  }

  /** Past for a prefill: {@code [rows, kvHeads, 0, headDim]}. */
  FloatBuffer[] emptyPast() {
    return views(empty, 0);
  }

  /** The current cache as the next step's past. */
  FloatBuffer[] past() {
    return views(front, floats(batch, length));
  }

  /** Buffers for a step's present output of {@code seq} new positions per row. */
  FloatBuffer[] present(int seq) {
    back = ensure(back, floats(batch, length + seq));
    return views(back, floats(batch, length + seq));
  }

  /** After a step wrote {@link #present}: it becomes the cache. */
  void commit(int seq) {
    FloatBuffer[] t = front;
    front = back;
    back = t;
    length += seq;
  }

  /** Buffers for the present of a prefill of {@code rows} sequences padded to {@code len}. */
  FloatBuffer[] staging(int rows, int len) {
    staging = ensure(staging, floats(rows, len));
    stagingBatch = rows;
    stagingLength = len;
    return views(staging, floats(rows, len));
  }

  /**
   * Lays out a new cache: rows {@code keepRows} of the current cache (their last
   * {@code keptLength} positions, which must cover every kept row's real tokens), then rows
   * {@code stagingRows} of the last prefill (all its positions). The new length is the larger of
   * the two; shorter rows are left-padded with zeros.
   */
  void rebuild(int[] keepRows, int keptLength, int[] stagingRows) {
    if (keptLength > length) {
      throw new IllegalArgumentException("keptLength " + keptLength + " > length " + length);
    }
    int newBatch = keepRows.length + stagingRows.length;
    int newLength = Math.max(keepRows.length == 0 ? 0 : keptLength, stagingRows.length == 0 ? 0 : stagingLength);
    back = ensure(back, floats(newBatch, newLength));
    int block = newLength * rowStride;
    if (zeros.length < block) {
      zeros = new float[block];
    }
    for (int r = 0; r < regions; r++) {
      FloatBuffer dst = back[r];
      int row = 0;
      for (int src : keepRows) {
        copyRow(front[r], src, length, keptLength, dst, row++, newLength);
      }
      for (int src : stagingRows) {
        copyRow(staging[r], src, stagingLength, stagingLength, dst, row++, newLength);
      }
    }
    FloatBuffer[] t = front;
    front = back;
    back = t;
    batch = newBatch;
    length = newLength;
  }

  /** Copies the last {@code take} positions of row {@code srcRow} right-aligned into {@code dstRow}. */
  private void copyRow(FloatBuffer src, int srcRow, int srcLength, int take, FloatBuffer dst, int dstRow,
                       int dstLength) {
    int pad = dstLength - take;
    for (int h = 0; h < kvHeads; h++) {
      int srcAt = ((srcRow * kvHeads + h) * srcLength + (srcLength - take)) * rowStride;
      int dstAt = (dstRow * kvHeads + h) * dstLength * rowStride;
      if (pad > 0) {
        dst.put(dstAt, zeros, 0, pad * rowStride);
      }
      dst.put(dstAt + pad * rowStride, src, srcAt, take * rowStride);
    }
  }

  /** Empties the cache (keeps the buffers for reuse). */
  void clear() {
    batch = 0;
    length = 0;
  }

  @Override
  public String toString() {
    return "KvCache[batch=" + batch + ", length=" + length + ", staging=" + stagingBatch + "x" + stagingLength
        + ", capacity=" + Arrays.stream(front).mapToInt(FloatBuffer::capacity).max().orElse(0) + "]";
  }
}
