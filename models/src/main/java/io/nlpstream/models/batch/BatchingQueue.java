package io.nlpstream.models.batch;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process-wide queue in front of a batch inference function, owned by one worker thread (the
 * design of Hugging Face text-embeddings-inference's batching queue). Any number of producers
 * (stream tasks on any stream thread) {@link #submit} items and get futures; the worker collects
 * what waits, sorts it by length, cuts it by the {@link BatchPolicy token budget} and runs the
 * batches one after another, so native inference never runs concurrently with itself.
 *
 * <p>A batch is started when the waiting items fill the token budget or when the oldest has waited
 * {@link BatchPolicy#maxWait()}. When a batch fails, its items are retried one at a time so that a
 * single bad input fails only its own future.
 *
 * <p>The queue holds items only in memory. Durability is the caller's job: the stream processor
 * keeps every submitted record in a changelogged store until its result is forwarded, and
 * resubmits what the store holds after a restart.
 *
 * <p>Thread safety: all public methods are thread-safe. Futures complete on the worker thread;
 * callers must not do heavy work in their callbacks. Ownership: the creator closes the queue;
 * {@link #close()} cancels what still waits and joins the worker. It does not close the inference
 * function's resources.
 *
 * @param <I> item type
 * @param <O> result type
 */
public final class BatchingQueue<I, O> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BatchingQueue.class);

  /**
   * Observes each executed batch (for metrics). Called on the worker thread after the batch's
   * futures have completed; an exception it throws is logged and does not affect the queue.
   */
  @FunctionalInterface
  public interface BatchListener {
    /**
     * @param size          items in the batch
     * @param tokens        sum of the items' costs
     * @param paddedTokens  size x longest cost: what the model computes
     * @param inferenceNanos wall time of the inference call
     */
    void onBatch(int size, int tokens, int paddedTokens, long inferenceNanos);
  }

  private static final class Pending<I, O> {
    final I item;
    final int cost;
    final long enqueuedNanos;
    final CompletableFuture<O> future = new CompletableFuture<>();

    Pending(I item, int cost, long enqueuedNanos) {
      this.item = item;
      this.cost = cost;
      this.enqueuedNanos = enqueuedNanos;
    }
  }

  private final String name;
  private final BatchPolicy policy;
  private final ToIntFunction<I> cost;
  private final Function<List<I>, List<O>> infer;
  private final BatchListener listener;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition itemsArrived = lock.newCondition();
  private final Condition spaceFreed = lock.newCondition();
  private final List<Pending<I, O>> waiting = new ArrayList<>();
  private int waitingTokens;
  private int inFlightTokens;
  private boolean closed;
  private final Thread worker;

  /**
   * @param name   names the worker thread ({@code nlpstream-batcher-<name>})
   * @param cost   tokens an item costs (its padded length contribution); must be cheap
   * @param infer  runs one batch; returns one result per item, in order. May throw; it is then
   *               retried item by item.
   */
  public BatchingQueue(String name, BatchPolicy policy, ToIntFunction<I> cost,
                       Function<List<I>, List<O>> infer, BatchListener listener) {
    this.name = Objects.requireNonNull(name, "name");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.cost = Objects.requireNonNull(cost, "cost");
    this.infer = Objects.requireNonNull(infer, "infer");
    this.listener = listener == null ? (s, t, p, n) -> { } : listener;
    this.worker = new Thread(this::runWorker, "nlpstream-batcher-" + name);
    this.worker.setDaemon(true);
    this.worker.start();
  }

  public BatchingQueue(String name, BatchPolicy policy, ToIntFunction<I> cost, Function<List<I>, List<O>> infer) {
    this(name, policy, cost, infer, null);
  }

  /**
   * Queues one item. Blocks while {@link BatchPolicy#maxQueuedTokens()} tokens wait or run
   * (backpressure onto the caller, e.g. the stream thread, and from there onto Kafka's poll loop).
   *
   * @throws CancellationException if the queue is closed
   * @throws InterruptedException  if interrupted while blocked
   */
  public CompletableFuture<O> submit(I item) throws InterruptedException {
    int c = Math.max(1, cost.applyAsInt(item));
    lock.lockInterruptibly();
    try {
      // A single item larger than the whole capacity is still admitted once the queue is empty.
      while (!closed && waitingTokens + inFlightTokens > 0
          && waitingTokens + inFlightTokens + c > policy.maxQueuedTokens()) {
        spaceFreed.await();
      }
      if (closed) {
        throw new CancellationException("batching queue " + name + " is closed");
      }
      Pending<I, O> p = new Pending<>(item, c, System.nanoTime());
      waiting.add(p);
      waitingTokens += c;
      itemsArrived.signal();
      return p.future;
    } finally {
      lock.unlock();
    }
  }

  /** Items waiting (not yet taken by the worker). */
  public int waitingItems() {
    lock.lock();
    try {
      return waiting.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * True while the queue is open and its worker thread alive. False after {@link #close()}, or when
   * the worker died (a bug): then nothing submitted would ever complete, which health checks report.
   */
  public boolean isRunning() {
    lock.lock();
    try {
      return !closed && worker.isAlive();
    } finally {
      lock.unlock();
    }
  }

  private void runWorker() {
    while (true) {
      List<Pending<I, O>> pool;
      lock.lock();
      try {
        while (!closed && !batchDue()) {
          if (waiting.isEmpty()) {
            itemsArrived.await();
          } else {
            long deadline = waiting.get(0).enqueuedNanos + policy.maxWait().toNanos();
            itemsArrived.awaitNanos(Math.max(1, deadline - System.nanoTime()));
          }
        }
        if (closed) {
          return;
        }
        pool = new ArrayList<>(waiting);
        waiting.clear();
        inFlightTokens += waitingTokens;
        waitingTokens = 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        lock.unlock();
      }
      runPool(pool);
    }
  }

  private boolean batchDue() {
    if (waiting.isEmpty()) {
      return false;
    }
    return waitingTokens >= policy.maxBatchTokens()
        || waiting.size() >= policy.maxBatchSize()
        || System.nanoTime() - waiting.get(0).enqueuedNanos >= policy.maxWait().toNanos();
  }

  private void runPool(List<Pending<I, O>> pool) {
    for (int[] batchIdx : TokenBudget.partition(pool, p -> p.cost, policy.maxBatchTokens(), policy.maxBatchSize(),
        policy.maxPaddingRatio())) {
      List<Pending<I, O>> batch = new ArrayList<>(batchIdx.length);
      for (int i : batchIdx) {
        batch.add(pool.get(i));
      }
      runBatch(batch);
      int freed = 0;
      for (Pending<I, O> p : batch) {
        freed += p.cost;
      }
      lock.lock();
      try {
        inFlightTokens -= freed;
        spaceFreed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void runBatch(List<Pending<I, O>> batch) {
    List<I> items = new ArrayList<>(batch.size());
    int tokens = 0;
    int longest = 0;
    for (Pending<I, O> p : batch) {
      items.add(p.item);
      tokens += p.cost;
      longest = Math.max(longest, p.cost);
    }
    long start = System.nanoTime();
    List<O> results;
    try {
      results = infer.apply(items);
      if (results == null || results.size() != items.size()) {
        throw new IllegalStateException("batch function of " + name + " returned "
            + (results == null ? "null" : results.size() + " results") + " for " + items.size() + " items");
      }
    } catch (RuntimeException | Error batchFailure) {
      if (batch.size() == 1) {
        batch.get(0).future.completeExceptionally(batchFailure);
        return;
      }
      // Isolate the bad input(s): one at a time, each failure only fails its own future.
      for (Pending<I, O> p : batch) {
        runBatch(List.of(p));
      }
      return;
    }
    long inferenceNanos = System.nanoTime() - start;
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).future.complete(results.get(i));
    }
    try {
      listener.onBatch(batch.size(), tokens, batch.size() * longest, inferenceNanos);
    } catch (RuntimeException listenerFailure) {
      // A metrics bug must neither kill the worker (every later future would hang) nor fail
      // results that were computed; report it and go on.
      LOG.warn("batch listener of batching queue {} failed", name, listenerFailure);
    }
  }

  /** Stops the worker; items still waiting are cancelled. Idempotent. */
  @Override
  public void close() {
    List<Pending<I, O>> cancelled;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      cancelled = new ArrayList<>(waiting);
      waiting.clear();
      waitingTokens = 0;
      itemsArrived.signalAll();
      spaceFreed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Pending<I, O> p : cancelled) {
      p.future.cancel(false);
    }
    try {
      worker.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
