package io.hivemesh.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.util.Iterator;
import org.slf4j.LoggerFactory;

/**
 * {@code --log-format json}: the console appender of logback.xml writes one JSON object a line;
 * {@code --access-log false}: no line per request.
 */
public final class LogFormat {

  private LogFormat() {
  }

  /** Applies {@code format} ("text" keeps logback.xml's pattern) to every console appender of the root logger. */
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
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      if (it.next() instanceof ConsoleAppender<ILoggingEvent> console) {
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
  }
}
