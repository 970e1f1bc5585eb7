package io.nlpstream.testing;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Test-only main: logs one ERROR line with a record context and a stack trace, then one INFO line. */
public final class LogFormatProbe {

  private LogFormatProbe() {}

  public static void main(String[] args) {
    Logger log = LoggerFactory.getLogger("io.nlpstream.probe");
    MDC.put("record_id", "probe-1");
    MDC.put("topic", "text.in");
    log.error("probe error line", new IllegalStateException("probe failure"));
    MDC.clear();
    log.info("probe info line");
  }
}
