package io.nlpstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.config.NlpstreamConfig;
import java.util.Map;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.junit.jupiter.api.Test;

/** A clean close leaves the consumer group, except for a static member, whose successor takes its place. */
class MembershipOnCloseTest {

  private static NlpstreamConfig config(Map<String, Object> settings) {
    return NlpstreamConfig.load(null, Map.of(), settings);
  }

  @Test
  void dynamicMemberLeavesTheGroupOnClose() {
    assertThat(EnrichmentApp.membershipOnClose(config(Map.of()))).isEqualTo(GroupMembershipOperation.LEAVE_GROUP);
    assertThat(EnrichmentApp.membershipOnClose(config(Map.of("kafka.session.timeout.ms", "6000"))))
        .isEqualTo(GroupMembershipOperation.LEAVE_GROUP);
  }

  @Test
  void staticMemberStaysInTheGroupOnClose() {
    assertThat(EnrichmentApp.membershipOnClose(config(Map.of("kafka.group.instance.id", "bert-0"))))
        .isEqualTo(GroupMembershipOperation.REMAIN_IN_GROUP);
    assertThat(EnrichmentApp.membershipOnClose(config(Map.of("kafka.main.consumer.group.instance.id", "bert-0"))))
        .isEqualTo(GroupMembershipOperation.REMAIN_IN_GROUP);
    assertThat(EnrichmentApp.membershipOnClose(config(Map.of("kafka.consumer.group.instance.id", "bert-0"))))
        .isEqualTo(GroupMembershipOperation.REMAIN_IN_GROUP);
  }
}
