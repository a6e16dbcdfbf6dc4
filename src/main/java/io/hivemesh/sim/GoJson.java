package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import io.hivemesh.json.GoScanner.SyntaxError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader that fails the way Go's {@code encoding/json} Decoder fails, because clients and
 * gateways match on Ollama's error texts ({@code invalid character 'x' looking for beginning of value},
 * {@code unexpected EOF}). Like the Decoder it reads one value and ignores whatever follows it. The
 * grammar and its errors are {@link GoScanner}'s, the node's own check of a body; this builds the
 * values the emulator's handlers read.
 *
 * <p>Values come back as {@link Map} (insertion ordered), {@link List}, {@link String}, {@link Num},
 * {@link Boolean} or {@code null}.
 */
final class GoJson {

  /** A JSON number kept as written, so type errors can quote it the way Go does. */
  record Num(String text) {
    double doubleValue() {
      return Double.parseDouble(text);
    }

    /** The value as a Go int, or null when Go would refuse it (fraction, exponent or overflow). */
    Long exactLong() {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  private final GoScanner json;
  private int lastOpen = '[';

  private GoJson(byte[] in) {
    this.json = new GoScanner(in, 0, in.length);
  }

  /** True when the body holds nothing but JSON whitespace: Go reports that as io.EOF. */
  static boolean isBlank(byte[] body) {
    return new GoScanner(body, 0, body.length).skipSpaceToEnd();
  }

  /** Parses the first JSON value of a non-blank body. */
  static Object parse(byte[] body) throws SyntaxError {
    GoJson p = new GoJson(body);
    p.json.skipSpaceToEnd();
    try {
      return p.value();
    } catch (StackOverflowError e) {
      // A small thread stack can give out before Go's depth limit: same verdict.
      throw new SyntaxError("invalid character " + GoScanner.quoteChar(p.lastOpen) + " exceeded max depth");
    }
  }

  private Object value() throws SyntaxError {
    int c = json.peek();
    switch (c) {
      case '{' -> {
        lastOpen = c;
        json.beginObject();
        Map<String, Object> map = new LinkedHashMap<>();
        for (boolean first = true; json.nextMember(first); first = false) {
          String key = json.string();
          json.afterKey();
          map.put(key, value());
        }
        return map;
      }
      case '[' -> {
        lastOpen = c;
        json.beginArray();
        List<Object> list = new ArrayList<>();
        for (boolean first = true; json.nextElement(first); first = false) {
          list.add(value());
        }
        return list;
      }
      case '"' -> {
        return json.string();
      }
      case 't', 'f', 'n' -> {
        return json.literal();
      }
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          return new Num(json.numberText());
        }
        // Not the start of any value: the scanner words the error.
        json.skipValue();
        throw new IllegalStateException("unreachable: '" + (char) c + "' starts no JSON value");
      }
    }
  }
}
