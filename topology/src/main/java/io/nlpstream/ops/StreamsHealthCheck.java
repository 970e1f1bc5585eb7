package io.nlpstream.ops;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KafkaStreams.State;
import org.apache.kafka.streams.ThreadMetadata;

/**
 * Health of one {@link KafkaStreams} client: ready when RUNNING; not live when the client has
 * failed (ERROR, PENDING_ERROR), has stopped while still registered (NOT_RUNNING: its owner closes
 * the registration before a requested stop), or a stream thread is DEAD while the client claims to
 * run. REBALANCING and a clean PENDING_SHUTDOWN are live but not ready.
 *
 * <p>Thread-safe: reads the client's state and thread metadata, both safe from any thread.
 */
public final class StreamsHealthCheck implements HealthCheck {

  private final KafkaStreams streams;
  private final String applicationId;

  public StreamsHealthCheck(KafkaStreams streams, String applicationId) {
    this.streams = Objects.requireNonNull(streams, "streams");
    this.applicationId = Objects.requireNonNull(applicationId, "applicationId");
  }

  @Override
  public HealthStatus check() {
    State state = streams.state();
    List<String> threadStates = state.isRunningOrRebalancing()
        ? streams.metadataForLocalThreads().stream().map(ThreadMetadata::threadState).toList()
        : List.of();
    return evaluate(applicationId, state, threadStates);
  }

  /** The rule above, as a pure function of the client state and its threads' states. */
  static HealthStatus evaluate(String applicationId, State state, List<String> threadStates) {
    boolean deadThread = threadStates.stream().anyMatch("DEAD"::equals);
    boolean failed = state == State.ERROR || state == State.PENDING_ERROR || state == State.NOT_RUNNING;
    boolean live = !failed && !(deadThread && state.isRunningOrRebalancing());
    boolean ready = live && state == State.RUNNING && !deadThread;
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("application_id", applicationId);
    details.put("state", state.name());
    details.put("threads", threadStates);
    return HealthStatus.of(live, ready, details);
  }
}
