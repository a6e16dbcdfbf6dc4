package io.hivemesh.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import io.hivemesh.observe.RequestObserver;
import org.slf4j.LoggerFactory;

/** Everything every logger writes while it is attached, as the text an operator would read. */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final List<String> lines = new ArrayList<>();

  public static LogCapture attach() {
    LogCapture capture = new LogCapture();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    capture.setContext(root.getLoggerContext());
    capture.start();
    root.addAppender(capture);
    // The access log has an appender of its own (asynchronous) and does not reach the root's.
    ((Logger) LoggerFactory.getLogger(RequestObserver.ACCESS_LOGGER)).addAppender(capture);
    return capture;
  }

  @Override
  protected synchronized void append(ILoggingEvent event) {
    StringBuilder text = new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage());
    for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
      text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
    }
    lines.add(text.toString());
  }

  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(this);
    ((Logger) LoggerFactory.getLogger(RequestObserver.ACCESS_LOGGER)).detachAppender(this);
    stop();
  }
}
