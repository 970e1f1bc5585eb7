package io.nlpstream.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/**
 * Test-only: every log event that reaches the root logger's appenders (what the process prints),
 * captured from {@link #start()} until {@link #close()}, with its rendered message, stack trace and
 * logging context. Thread-safe.
 */
public final class CapturedLogs implements AutoCloseable {

  /** One captured event, rendered. */
  public record Line(Level level, String logger, String message, String thrown, Map<String, String> context) {

    /** Message, stack trace and context values: everything an appender could print. */
    public String everything() {
      return message + "\n" + thrown + "\n" + context;
    }

    public boolean atLeast(Level threshold) {
      return level.isMoreSpecificThan(threshold);
    }
  }

  private final List<Line> lines = new CopyOnWriteArrayList<>();
  private final AbstractAppender appender;
  private final LoggerContext context;

  private CapturedLogs() {
    context = (LoggerContext) LogManager.getContext(false);
    appender = new AbstractAppender("captured-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        String thrown = "";
        if (event.getThrown() != null) {
          StringWriter w = new StringWriter();
          event.getThrown().printStackTrace(new PrintWriter(w));
          thrown = w.toString();
        }
        lines.add(new Line(event.getLevel(), event.getLoggerName(), event.getMessage().getFormattedMessage(), thrown,
            Map.copyOf(event.getContextData().toMap())));
      }
    };
    appender.start();
    context.getConfiguration().getRootLogger().addAppender(appender, Level.ALL, null);
    context.updateLoggers();
  }

  public static CapturedLogs start() {
    return new CapturedLogs();
  }

  public List<Line> lines() {
    return List.copyOf(lines);
  }

  /** Lines at {@code threshold} or more severe. */
  public List<Line> atLeast(Level threshold) {
    return lines.stream().filter(l -> l.atLeast(threshold)).toList();
  }

  @Override
  public void close() {
    context.getConfiguration().getRootLogger().removeAppender(appender.getName());
    context.updateLoggers();
    appender.stop();
  }
}
