package io.hivemesh.observe;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object a line for log shippers: {@code time}, {@code level}, {@code logger},
 * {@code message}, the event's key-value pairs (request id, site, model, status, durations on
 * access lines) and MDC entries as fields of their own, and an exception's class and message.
 */
public final class JsonLogLayout extends LayoutBase<ILoggingEvent> {

  private static final java.util.Set<String> RESERVED = java.util.Set.of("time", "level", "logger", "message",
      "thread", "exception");

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder out = new StringBuilder(256).append('{');
    field(out, "time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
    out.append(',');
    field(out, "level", event.getLevel().toString());
    out.append(',');
    field(out, "logger", event.getLoggerName());
    out.append(',');
    field(out, "thread", event.getThreadName());
    out.append(',');
    field(out, "message", event.getFormattedMessage());
    if (event.getKeyValuePairs() != null) {
      for (KeyValuePair kv : event.getKeyValuePairs()) {
        if (kv.value != null && !RESERVED.contains(kv.key)) {
          out.append(',');
          value(out, kv.key, kv.value);
        }
      }
    }
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (mdc != null) {
      mdc.forEach((k, v) -> {
        if (v != null && !RESERVED.contains(k)) {
          out.append(',');
          field(out, k, v);
        }
      });
    }
    IThrowableProxy t = event.getThrowableProxy();
    if (t != null) {
      out.append(',');
      field(out, "exception", t.getClassName() + ": " + t.getMessage());
    }
    return out.append("}\n").toString();
  }

  private static void value(StringBuilder out, String key, Object v) {
    if (v instanceof Number || v instanceof Boolean) {
      string(out, key);
      out.append(':').append(v);
    } else {
      field(out, key, String.valueOf(v));
    }
  }

  private static void field(StringBuilder out, String key, String value) {
    string(out, key);
    out.append(':');
    if (value == null) {
      out.append("null");
    } else {
      string(out, value);
    }
  }

  /** A JSON string: quotes, backslashes and control characters escaped, so one event stays one line. */
  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
