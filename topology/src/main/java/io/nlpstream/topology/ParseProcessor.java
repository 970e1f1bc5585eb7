package io.nlpstream.topology;

import io.nlpstream.topology.ParseResult.Accepted;
import io.nlpstream.topology.ParseResult.Rejected;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * First step: raw bytes to a validated event. Accepted events go to the BERT stage keyed by their
 * id; refused records go straight to the dead-letter sink with their reason and original bytes.
 * Exactly one of the two happens for every record.
 */
final class ParseProcessor implements Processor<byte[], byte[], String, Object> {

  private final TextEventParser parser;
  private final PipelineCounters counters;
  private final String bertNode;
  private final String deadLetterNode;
  private ProcessorContext<String, Object> context;

  ParseProcessor(TextEventParser parser, PipelineCounters counters, String bertNode, String deadLetterNode) {
    this.parser = parser;
    this.counters = counters;
    this.bertNode = bertNode;
    this.deadLetterNode = deadLetterNode;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata md = context.recordMetadata()
        .orElseThrow(() -> new IllegalStateException("input record without topic/partition/offset"));
    SourceRecord origin = new SourceRecord(md.topic(), md.partition(), md.offset(), record.timestamp(),
        record.key(), record.value());
    counters.recordIn();
    ParseResult result = parser.parse(origin);
    if (result instanceof Accepted accepted) {
      TextEvent event = accepted.event();
      context.forward(record.withKey(event.id()).withValue((Object) new ParsedInput(origin, event)), bertNode);
    } else if (result instanceof Rejected rejected) {
      DeadLetter letter = DeadLetter.of(rejected.reason(), rejected.message(), Stage.PARSE, null, null, origin,
          null, context.currentSystemTimeMs());
      counters.deadLetter(rejected.reason(), Stage.PARSE);
      context.forward(record.withKey(letter.recordKey()).withValue((Object) letter), deadLetterNode);
    }
  }
}
