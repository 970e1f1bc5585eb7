package io.nlpstream.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nlpstream.models.bert.SlidingWindows.Plan;
import io.nlpstream.models.bert.SlidingWindows.Window;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SlidingWindowsTest {

  @ParameterizedTest(name = "{0} tokens, window {1}, overlap {2}")
  @CsvSource({"2000, 256, 0.5", "2000, 256, 0.25", "2000, 128, 0", "255, 256, 0.5", "1000, 64, 0.75", "509, 256, 0.5"})
  void everyTokenIsPredictedByTheWindowWhereItIsMostCentral(int n, int maxTokens, double overlap) {
    SlidingWindows windows = SlidingWindows.withOverlap(maxTokens, overlap);
    Plan plan = windows.plan(n);

    assertThat(plan.windows().get(0).start()).isZero();
    assertThat(plan.windows().get(plan.windows().size() - 1).end()).isEqualTo(n);
    for (Window w : plan.windows()) {
      assertThat(w.length()).isLessThanOrEqualTo(maxTokens - 2);
      assertThat(w.start()).isNotNegative();
    }
    for (int i = 1; i < plan.windows().size(); i++) {
      Window prev = plan.windows().get(i - 1);
      Window next = plan.windows().get(i);
      assertThat(next.start()).as("windows advance").isGreaterThan(prev.start());
      assertThat(next.start()).as("no gap between windows").isLessThanOrEqualTo(prev.end());
    }
    assertThat(plan.owner()).hasSize(n);
    for (int t = 0; t < n; t++) {
      Window own = plan.windows().get(plan.owner()[t]);
      assertThat(t).as("token %d lies in its window", t).isGreaterThanOrEqualTo(own.start()).isLessThan(own.end());
      for (Window other : plan.windows()) {
        if (other.start() <= t && t < other.end()) {
          assertThat(SlidingWindows.margin(own, t)).as("token %d: no window holds it more centrally", t)
              .isGreaterThanOrEqualTo(SlidingWindows.margin(other, t));
        }
      }
    }
  }

  @Test
  void keptPredictionsHaveContextOnBothSides() {
    SlidingWindows windows = SlidingWindows.withOverlap(256, 0.5); // capacity 254, stride 127
    Plan plan = windows.plan(2000);
    int minContext = (windows.capacity() - windows.stride()) / 2;
    for (int t = minContext; t < 2000 - minContext; t++) {
      assertThat(SlidingWindows.margin(plan.windows().get(plan.owner()[t]), t)).isGreaterThanOrEqualTo(minContext);
    }
    assertThat(plan.truncated()).isTrue();
  }

  @Test
  void aTextThatFitsIsOneWindow() {
    SlidingWindows windows = new SlidingWindows(256, 127);
    assertThat(windows.plan(254).windows()).containsExactly(new Window(0, 254));
    assertThat(windows.plan(254).truncated()).isFalse();
    assertThat(windows.plan(0).windows()).containsExactly(new Window(0, 0));
    assertThat(windows.plan(255).windows()).containsExactly(new Window(0, 254), new Window(1, 255));
  }

  @Test
  void rejectsImpossibleSettings() {
    assertThatThrownBy(() -> new SlidingWindows(2, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SlidingWindows(10, 9)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SlidingWindows.withOverlap(10, 1.0)).isInstanceOf(IllegalArgumentException.class);
  }
}
