package io.nlpstream.topology;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Sends enriched records that ask for generation (their {@code task}) or match a routing rule to the
 * GPT requests topic, keyed by the input id. Records it does not route are simply not forwarded:
 * they are already on the enriched topic.
 */
final class RoutingProcessor implements Processor<String, EnrichedEvent, String, GptRequest> {

  private final RoutingRules rules;
  private final PipelineCounters counters;
  private ProcessorContext<String, GptRequest> context;

  RoutingProcessor(RoutingRules rules, PipelineCounters counters) {
    this.rules = rules;
    this.counters = counters;
  }

  @Override
  public void init(ProcessorContext<String, GptRequest> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, EnrichedEvent> record) {
    EnrichedEvent event = record.value();
    rules.route(event).ifPresent(route -> {
      context.forward(record.withKey(event.id()).withValue(GptRequest.of(event, route.kind(), route.routedBy())));
      counters.gptRequest();
    });
  }
}
