package io.nlpstream.topology;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The durable buffer of one stream task of a stage that hands its records to asynchronous work (a
 * batcher, a generator) and forwards the results later: the machinery the BERT stage
 * ({@link EnrichmentProcessor}) and the GPT stage ({@link GenerationProcessor}) share.
 *
 * <h2>Durability</h2>
 * Kafka Streams commits a record's offset once {@code process()} has returned. So a record is
 * {@linkplain #add added} to the changelogged {@code store} before {@code process()} returns, and
 * leaves the store only in the step that {@linkplain Handler#complete completes} it (forwards its
 * outcome): under {@code exactly_once_v2} the store's changelog writes, the outputs and the input
 * offsets commit in one transaction; under {@code at_least_once} the store is flushed before offsets
 * commit. Either way every record whose offset is committed is either forwarded or still in the
 * store, and {@link #restore} (on {@code init}, after Kafka Streams restored the store) takes up
 * what the store holds.
 *
 * <h2>Admission</h2>
 * Records are offered to {@link Handler#submit} in the buffer's arrival order (restored records
 * first, in the order {@link #restore} is given). A handler may refuse for now by throwing
 * {@link RejectedExecutionException} (a full queue: backpressure by rejection); the record stays in
 * the store and in line, and neither it nor any later record is offered again before the next
 * {@link #submitWaiting()} (the owner's punctuation). Admission is therefore first come first
 * served, per task: a rejected record is never overtaken.
 *
 * <h2>Forwarding order</h2>
 * {@link Order#INPUT}: only the completed prefix is forwarded, so outputs leave in arrival order
 * (the BERT stage: per-partition offset order). {@link Order#COMPLETION}: every completed record is
 * forwarded at once, whatever is still running before it (the GPT stage: a slow generation does not
 * hold back the short ones behind it).
 *
 * <p>Not thread-safe: one stream task's thread calls it (from {@code process()} and punctuations),
 * and handlers run on that thread, so forwarding happens in the task's context as Kafka Streams
 * requires; only {@link #publishedSize()} may be read from any thread (the buffered-records gauge).
 * The store is Kafka Streams'; the buffer only reads, writes and deletes keys in it.
 *
 * @param <K> store key (unique per buffered record)
 * @param <V> stored value: the smallest durable form of the record (its raw bytes and coordinates)
 * @param <T> the handler's in-memory ticket for a submitted record
 */
final class DurableBuffer<K, V, T extends DurableBuffer.Ticket> {

  /** The handler's handle on one submitted record. */
  interface Ticket {
    /** True once the record has an outcome to forward (a failure is an outcome too). */
    boolean isDone();
  }

  /** What the owning processor does with records; called on the task's thread. */
  interface Handler<K, V, T extends Ticket> {
    /**
     * Starts the work for a buffered record.
     *
     * @throws RejectedExecutionException not now: the record stays buffered and is offered again later
     */
    T submit(K key, V value);

    /**
     * Forwards the outcome of a done ticket. The record is deleted from the store right after this
     * returns, in the same transaction as what was forwarded; if this throws, it stays.
     */
    void complete(K key, V value, T ticket);
  }

  /** Which completed records may be forwarded. */
  enum Order {
    /** Only the completed prefix, in arrival order. */
    INPUT,
    /** Every completed record, as soon as it completes. */
    COMPLETION
  }

  private static final class Entry<V, T> {
    final V value;
    T ticket;

    Entry(V value, T ticket) {
      this.value = value;
      this.ticket = ticket;
    }
  }

  private final KeyValueStore<K, V> store;
  private final Handler<K, V, T> handler;
  private final Order order;
  private final LinkedHashMap<K, Entry<V, T>> entries = new LinkedHashMap<>();
  private int waiting;
  /** {@code entries.size()}, published for readers on other threads (the metrics scrape). */
  private final AtomicInteger published = new AtomicInteger();

  DurableBuffer(KeyValueStore<K, V> store, Handler<K, V, T> handler, Order order) {
    this.store = store;
    this.handler = handler;
    this.order = order;
  }

  /**
   * Takes up every record the store holds, in {@code restoreOrder}, ahead of any record added later,
   * and submits them (as far as the handler accepts). Call once, from {@code init}.
   *
   * @return the restored records, in the order they were taken up
   */
  List<KeyValue<K, V>> restore(Comparator<KeyValue<K, V>> restoreOrder) {
    List<KeyValue<K, V>> restored = new ArrayList<>();
    try (KeyValueIterator<K, V> it = store.all()) {
      it.forEachRemaining(restored::add);
    }
    restored.sort(restoreOrder);
    for (KeyValue<K, V> kv : restored) {
      entries.put(kv.key, new Entry<>(kv.value, null));
      waiting++;
    }
    published.set(entries.size());
    submitWaiting();
    return restored;
  }

  /** True when a record with this key is buffered (submitted or waiting). */
  boolean contains(K key) {
    return entries.containsKey(key);
  }

  /**
   * Writes the record to the store and, unless older records still wait for admission, submits it.
   *
   * @throws IllegalStateException when the key is already buffered (check {@link #contains} first)
   */
  void add(K key, V value) {
    add(key, value, null);
  }

  /**
   * Writes an already submitted record to the store ({@code ticket}: the caller submitted it
   * itself), or, with a null ticket, as {@link #add(Object, Object)}.
   */
  void add(K key, V value, T ticket) {
    if (entries.containsKey(key)) {
      throw new IllegalStateException("record " + key + " is already buffered");
    }
    store.put(key, value);
    entries.put(key, new Entry<>(value, ticket));
    published.set(entries.size());
    if (ticket == null) {
      waiting++;
      submitWaiting();
    }
  }

  /**
   * Offers the records that wait for admission to the handler, oldest first, until it rejects one.
   *
   * @return true when none waits any more
   */
  boolean submitWaiting() {
    if (waiting == 0) {
      return true;
    }
    for (Map.Entry<K, Entry<V, T>> e : entries.entrySet()) {
      Entry<V, T> entry = e.getValue();
      if (entry.ticket == null) {
        try {
          entry.ticket = handler.submit(e.getKey(), entry.value);
        } catch (RejectedExecutionException rejected) {
          return false;
        }
        waiting--;
        if (waiting == 0) {
          return true;
        }
      }
    }
    return waiting == 0;
  }

  /** Completes what may be forwarded under this buffer's {@link Order}; see {@link Handler#complete}. */
  int forwardCompleted() {
    int forwarded = 0;
    Iterator<Map.Entry<K, Entry<V, T>>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<K, Entry<V, T>> e = it.next();
      T ticket = e.getValue().ticket;
      if (ticket == null || !ticket.isDone()) {
        if (order == Order.INPUT) {
          break;
        }
        continue;
      }
      handler.complete(e.getKey(), e.getValue().value, ticket);
      store.delete(e.getKey());
      it.remove();
      published.set(entries.size());
      forwarded++;
    }
    return forwarded;
  }

  /** {@link #submitWaiting()}, then {@link #forwardCompleted()}: what a punctuation does. */
  void drain() {
    submitWaiting();
    forwardCompleted();
  }

  /** The ticket of the oldest buffered record, if it was submitted. */
  Optional<T> oldestTicket() {
    Iterator<Entry<V, T>> it = entries.values().iterator();
    return it.hasNext() ? Optional.ofNullable(it.next().ticket) : Optional.empty();
  }

  /** Tickets of the submitted records that are not done yet, oldest first. */
  List<T> running() {
    List<T> out = new ArrayList<>();
    for (Entry<V, T> entry : entries.values()) {
      if (entry.ticket != null && !entry.ticket.isDone()) {
        out.add(entry.ticket);
      }
    }
    return out;
  }

  /** Buffered records: submitted or waiting for admission, not yet forwarded. */
  int size() {
    return entries.size();
  }

  /**
   * {@link #size()} as of the last change, readable from any thread: what the stage's
   * buffered-records gauge sums over its tasks.
   */
  int publishedSize() {
    return published.get();
  }

  /** Records waiting for admission (not yet accepted by the handler). */
  int waiting() {
    return waiting;
  }

  /** The oldest buffered key, for logs. */
  Optional<K> oldestKey() {
    Iterator<K> it = entries.keySet().iterator();
    return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
  }

  /** The newest buffered key, for logs. */
  Optional<K> newestKey() {
    K last = null;
    for (K k : entries.keySet()) {
      last = k;
    }
    return Optional.ofNullable(last);
  }

  /**
   * Forgets this instance's view of its records; they stay in the store, which Kafka Streams commits
   * (clean close) or restores from the changelog (after a crash), so the next owner takes them up.
   */
  void clear() {
    entries.clear();
    waiting = 0;
    published.set(0);
  }
}
