package io.nlpstream.models.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TokenBudgetTest {

  @Test
  void batchesAreLengthSortedAndCoverEveryItemOnce() {
    List<Integer> costs = List.of(30, 5, 12, 5, 40, 7, 12, 1);
    List<int[]> batches = TokenBudget.partition(costs, c -> c, 48, 100);

    List<Integer> flat = new ArrayList<>();
    batches.forEach(b -> Arrays.stream(b).forEach(flat::add));
    assertThat(flat).containsExactlyInAnyOrderElementsOf(IntStream.range(0, costs.size()).boxed().toList());
    List<Integer> costsInOrder = flat.stream().map(costs::get).toList();
    assertThat(costsInOrder).isSorted();
  }

  @Test
  void paddedTokensNeverExceedTheBudgetAndBatchSizeIsCapped() {
    Random random = new Random(7);
    List<Integer> costs = IntStream.range(0, 500).mapToObj(i -> 1 + random.nextInt(120)).toList();
    List<int[]> batches = TokenBudget.partition(costs, c -> c, 512, 16);
    for (int[] batch : batches) {
      int longest = Arrays.stream(batch).map(costs::get).max().orElseThrow();
      assertThat(batch.length * longest).isLessThanOrEqualTo(512);
      assertThat(batch.length).isLessThanOrEqualTo(16);
    }
    // Greedy: a batch is only cut when the next (longer) item would break a bound.
    for (int i = 0; i + 1 < batches.size(); i++) {
      int[] batch = batches.get(i);
      int next = costs.get(batches.get(i + 1)[0]);
      assertThat(batch.length == 16 || (batch.length + 1) * next > 512).isTrue();
    }
  }

  @Test
  void anItemOverTheBudgetRunsAlone() {
    List<Integer> costs = List.of(3, 300, 4, 2);
    List<int[]> batches = TokenBudget.partition(costs, c -> c, 100, 10);
    assertThat(batches).hasSize(2);
    assertThat(batches.get(0)).containsExactly(3, 0, 2);
    assertThat(batches.get(1)).containsExactly(1);
  }

  @Test
  void equalCostsKeepInputOrderAndZeroCostCountsAsOne() {
    List<Integer> costs = List.of(2, 0, 2, 2);
    List<int[]> batches = TokenBudget.partition(costs, c -> c, 6, 10);
    assertThat(batches).hasSize(2);
    assertThat(batches.get(0)).containsExactly(1, 0, 2);
    assertThat(batches.get(1)).containsExactly(3);
  }

  @Test
  void emptyInputGivesNoBatches() {
    assertThat(TokenBudget.partition(List.<Integer>of(), c -> c, 10, 10)).isEmpty();
  }

  @Test
  void aLongTextIsNotPaddedTogetherWithShortOnes() {
    // Three tweets and one dialogue: padding the tweets to 180 would cost 4x180 = 720 for 270 real tokens.
    List<Integer> costs = List.of(30, 180, 28, 31);
    List<int[]> unbounded = TokenBudget.partition(costs, c -> c, 8192, 32);
    assertThat(unbounded).hasSize(1);
    List<int[]> bounded = TokenBudget.partition(costs, c -> c, 8192, 32, 1.5);
    assertThat(bounded).hasSize(2);
    assertThat(bounded.get(0)).containsExactly(2, 0, 3);
    assertThat(bounded.get(1)).containsExactly(1);
    for (int[] batch : bounded) {
      int longest = Arrays.stream(batch).map(costs::get).max().orElseThrow();
      int sum = Arrays.stream(batch).map(costs::get).sum();
      assertThat(batch.length * longest).isLessThanOrEqualTo((int) (1.5 * sum));
    }
  }
}
