package io.nlpstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StreamsHealthCheckTest {

  @ParameterizedTest(name = "{0}: live={1} ready={2}")
  @CsvSource({
      "CREATED, true, false",
      "REBALANCING, true, false",
      "RUNNING, true, true",
      "PENDING_SHUTDOWN, true, false",
      "NOT_RUNNING, false, false",
      "PENDING_ERROR, false, false",
      "ERROR, false, false"})
  void clientStates(State state, boolean live, boolean ready) {
    HealthStatus s = StreamsHealthCheck.evaluate("app", state, List.of("RUNNING"));
    assertThat(s.live()).isEqualTo(live);
    assertThat(s.ready()).isEqualTo(ready);
    assertThat(s.details()).containsEntry("state", state.name()).containsEntry("application_id", "app");
  }

  @Test
  void aDeadStreamThreadInARunningClientIsNotLive() {
    HealthStatus s = StreamsHealthCheck.evaluate("app", State.RUNNING, List.of("RUNNING", "DEAD"));
    assertThat(s.live()).isFalse();
    assertThat(s.ready()).isFalse();
    assertThat(s.details().get("threads")).isEqualTo(List.of("RUNNING", "DEAD"));
  }
}
