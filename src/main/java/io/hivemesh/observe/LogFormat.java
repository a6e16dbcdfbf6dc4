package io.hivemesh.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.AsyncAppenderBase;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * {@code --log-format json}: the console appender of logback.xml writes one JSON object a line;
 * {@code --access-log false}: no line per request.
 */
public final class LogFormat {

  private LogFormat() {
  }

  /** Applies {@code format} ("text" keeps logback.xml's pattern) to every console appender, the access log's included. */
  public static void apply(String format, boolean accessLog) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    if (!accessLog) {
      context.getLogger(RequestObserver.ACCESS_LOGGER).setLevel(Level.OFF);
    }
    if (!"json".equals(format)) {
      return;
    }
    List<ConsoleAppender<ILoggingEvent>> consoles = new ArrayList<>();
    collectConsoles(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders(), consoles);
    collectConsoles(context.getLogger(RequestObserver.ACCESS_LOGGER).iteratorForAppenders(), consoles);
    for (ConsoleAppender<ILoggingEvent> console : consoles) {
      JsonLogLayout layout = new JsonLogLayout();
      layout.setContext(context);
      layout.start();
      LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
      encoder.setContext(context);
      encoder.setLayout(layout);
      encoder.start();
      console.stop();
      console.setEncoder(encoder);
      console.start();
    }
  }

  /** The console appenders among {@code appenders}, and behind the asynchronous ones (the access log's). */
  private static void collectConsoles(Iterator<Appender<ILoggingEvent>> appenders,
                                      List<ConsoleAppender<ILoggingEvent>> into) {
    while (appenders.hasNext()) {
      Appender<ILoggingEvent> a = appenders.next();
      if (a instanceof ConsoleAppender<ILoggingEvent> console && !into.contains(console)) {
        into.add(console);
      } else if (a instanceof AsyncAppenderBase<ILoggingEvent> async) {
        collectConsoles(async.iteratorForAppenders(), into);
      }
    }
  }
}
