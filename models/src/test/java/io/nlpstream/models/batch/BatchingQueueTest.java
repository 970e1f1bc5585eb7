package io.nlpstream.models.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The queue with a fake inference function: strings cost their length. */
class BatchingQueueTest {

  private static final Duration LONG = Duration.ofMinutes(10);

  /** Records every batch it is given and returns upper-cased items. */
  private static final class Recorder implements Function<List<String>, List<String>> {
    final List<List<String>> batches = Collections.synchronizedList(new ArrayList<>());

    @Override
    public List<String> apply(List<String> items) {
      batches.add(List.copyOf(items));
      return items.stream().map(String::toUpperCase).toList();
    }
  }

  @Test
  void fullBudgetStartsAtOnceInLengthSortedBatchesWithinBudget() throws Exception {
    Recorder recorder = new Recorder();
    // maxWait 10 minutes: only the token budget can start these batches.
    try (BatchingQueue<String, String> queue =
             new BatchingQueue<>("t", new BatchPolicy(12, 100, LONG, 1000), String::length, recorder)) {
      List<CompletableFuture<String>> futures = new ArrayList<>();
      // Submitted from one thread before the budget fills, so the worker sees them in one pool.
      for (String s : List.of("ccc", "a", "dddd", "bb")) {
        futures.add(queue.submit(s));
      }
      futures.add(queue.submit("eeeee")); // 15 tokens waiting >= 12: due now
      for (CompletableFuture<String> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(futures.get(0).get()).isEqualTo("CCC");
      assertThat(futures.get(4).get()).isEqualTo("EEEEE");
      List<String> order = recorder.batches.stream().flatMap(List::stream).toList();
      assertThat(order).extracting(String::length).isSorted();
      for (List<String> batch : recorder.batches) {
        int longest = batch.stream().mapToInt(String::length).max().orElseThrow();
        assertThat(batch.size() * longest).isLessThanOrEqualTo(12);
      }
    }
  }

  @Test
  void maxWaitStartsAnUnderfullBatch() throws Exception {
    Recorder recorder = new Recorder();
    Duration maxWait = Duration.ofMillis(150);
    try (BatchingQueue<String, String> queue =
             new BatchingQueue<>("t", new BatchPolicy(1000, 100, maxWait, 1000), String::length, recorder)) {
      long start = System.nanoTime();
      CompletableFuture<String> f = queue.submit("lonely");
      assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("LONELY");
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // The budget is far from full, so only the deadline can have started it: not before maxWait.
      assertThat(waitedMillis).isGreaterThanOrEqualTo(maxWait.toMillis());
      assertThat(recorder.batches).containsExactly(List.of("lonely"));
    }
  }

  @Test
  void maxBatchSizeStartsABatch() throws Exception {
    Recorder recorder = new Recorder();
    try (BatchingQueue<String, String> queue =
             new BatchingQueue<>("t", new BatchPolicy(1000, 2, LONG, 1000), String::length, recorder)) {
      CompletableFuture<String> a = queue.submit("a");
      CompletableFuture<String> b = queue.submit("b");
      assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo("A");
      assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo("B");
    }
  }

  @Test
  void submitBlocksWhileQueuedTokensAreAtCapacity() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch inferring = new CountDownLatch(1);
    Function<List<String>, List<String>> blocking = items -> {
      inferring.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return items;
    };
    try (BatchingQueue<String, String> queue =
             new BatchingQueue<>("t", new BatchPolicy(4, 100, Duration.ZERO, 8), String::length, blocking)) {
      CompletableFuture<String> first = queue.submit("aaaa"); // runs, blocked in inference
      assertThat(inferring.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<String> second = queue.submit("bbbb"); // 8 tokens queued or in flight: full
      AtomicReference<CompletableFuture<String>> third = new AtomicReference<>();
      Thread producer = new Thread(() -> {
        try {
          third.set(queue.submit("cc"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      producer.start();
      // The producer must park in submit: no space until the inference returns.
      waitForState(producer, Thread.State.WAITING);
      assertThat(third.get()).isNull();

      release.countDown();
      producer.join(10_000);
      assertThat(producer.isAlive()).isFalse();
      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("aaaa");
      assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("bbbb");
      assertThat(third.get().get(10, TimeUnit.SECONDS)).isEqualTo("cc");
    }
  }

  private static void waitForState(Thread thread, Thread.State state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (thread.getState() != state) {
      assertThat(System.nanoTime()).as("thread reached " + state).isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void aFailingItemFailsOnlyItsOwnFuture() throws Exception {
    List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
    Function<List<String>, List<String>> infer = items -> {
      calls.add(List.copyOf(items));
      if (items.contains("bad")) {
        throw new IllegalArgumentException("cannot infer 'bad'");
      }
      return items.stream().map(String::toUpperCase).toList();
    };
    try (BatchingQueue<String, String> queue =
             new BatchingQueue<>("t", new BatchPolicy(100, 3, LONG, 1000), String::length, infer)) {
      CompletableFuture<String> ok1 = queue.submit("one");
      CompletableFuture<String> bad = queue.submit("bad");
      CompletableFuture<String> ok2 = queue.submit("two");
      assertThat(ok1.get(10, TimeUnit.SECONDS)).isEqualTo("ONE");
      assertThat(ok2.get(10, TimeUnit.SECONDS)).isEqualTo("TWO");
      assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(IllegalArgumentException.class)
          .hasRootCauseMessage("cannot infer 'bad'");
      // One failed batch of three, then each item alone.
      assertThat(calls).hasSize(4);
      assertThat(calls.get(0)).hasSize(3);
    }
  }

  @Test
  void aWrongNumberOfResultsFailsTheItemsInsteadOfHanging() throws Exception {
    try (BatchingQueue<String, String> queue = new BatchingQueue<>("t",
        new BatchPolicy(100, 1, LONG, 1000), String::length, items -> List.of())) {
      CompletableFuture<String> f = queue.submit("x");
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IllegalStateException.class)
          .hasMessageContaining("returned 0 results for 1 items");
    }
  }

  @Test
  void aFailingListenerNeitherFailsResultsNorStopsTheWorker() throws Exception {
    try (BatchingQueue<String, String> queue = new BatchingQueue<>("t",
        new BatchPolicy(100, 1, LONG, 1000), String::length, new Recorder(),
        (size, tokens, padded, nanos) -> {
          throw new IllegalStateException("metrics bug");
        })) {
      assertThat(queue.submit("a").get(10, TimeUnit.SECONDS)).isEqualTo("A");
      assertThat(queue.submit("b").get(10, TimeUnit.SECONDS)).isEqualTo("B");
    }
  }

  @Test
  void listenerSeesSizesAndPaddedTokens() throws Exception {
    List<int[]> seen = Collections.synchronizedList(new ArrayList<>());
    try (BatchingQueue<String, String> queue = new BatchingQueue<>("t",
        new BatchPolicy(100, 2, LONG, 1000), String::length, new Recorder(),
        (size, tokens, padded, nanos) -> seen.add(new int[] {size, tokens, padded}))) {
      CompletableFuture<String> a = queue.submit("a");
      CompletableFuture<String> b = queue.submit("bbb");
      a.get(10, TimeUnit.SECONDS);
      b.get(10, TimeUnit.SECONDS);
    }
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0)).containsExactly(2, 4, 6);
  }

  @Test
  void closeCancelsWaitingItemsAndRejectsNewOnes() throws Exception {
    BatchingQueue<String, String> queue =
        new BatchingQueue<>("t", new BatchPolicy(1000, 100, LONG, 1000), String::length, new Recorder());
    CompletableFuture<String> waiting = queue.submit("never");
    assertThat(queue.isRunning()).isTrue();
    queue.close();
    assertThat(queue.isRunning()).as("health checks see a closed queue").isFalse();
    assertThat(waiting).isCancelled();
    assertThatThrownBy(() -> queue.submit("late")).isInstanceOf(CancellationException.class);
    queue.close(); // idempotent
  }
}
