package io.nlpstream.topology;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Key of the BERT stage's buffer store: the input partition and offset of a record in flight.
 *
 * <p>Serialized as 12 big-endian bytes (partition, then offset). Both are non-negative, so the
 * stores' unsigned lexicographic byte order is numeric order: iterating the store yields records in
 * offset order, which is what restores them in their original order after a restart. The topic is
 * not part of the key because the BERT stage's sub-topology reads a single input topic.
 */
public record BufferKey(int partition, long offset) implements Comparable<BufferKey> {

  static final int SIZE = Integer.BYTES + Long.BYTES;

  public BufferKey {
    if (partition < 0 || offset < 0) {
      throw new IllegalArgumentException("partition and offset must be >= 0, were " + partition + ", " + offset);
    }
  }

  static BufferKey of(SourceRecord record) {
    return new BufferKey(record.partition(), record.offset());
  }

  @Override
  public int compareTo(BufferKey o) {
    int c = Integer.compare(partition, o.partition);
    return c != 0 ? c : Long.compare(offset, o.offset);
  }

  static final Serializer<BufferKey> SERIALIZER = (topic, key) -> key == null ? null
      : ByteBuffer.allocate(SIZE).putInt(key.partition).putLong(key.offset).array();

  static final Deserializer<BufferKey> DESERIALIZER = (topic, bytes) -> {
    if (bytes == null) {
      return null;
    }
    if (bytes.length != SIZE) {
      throw new SerializationException("buffer key must be " + SIZE + " bytes, was " + bytes.length);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    return new BufferKey(b.getInt(), b.getLong());
  };

  static Serde<BufferKey> serde() {
    return Serdes.serdeFrom(SERIALIZER, DESERIALIZER);
  }
}
