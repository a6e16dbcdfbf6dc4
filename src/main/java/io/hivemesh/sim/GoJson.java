package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader that fails the way Go's {@code encoding/json} Decoder fails, because clients and
 * gateways match on Ollama's error texts ({@code invalid character 'x' looking for beginning of value},
 * {@code unexpected EOF}). Like the Decoder it reads one value and ignores whatever follows it.
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

  /** A syntax error carrying Go's message. */
  static final class SyntaxError extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  private static final String UNEXPECTED_EOF = "unexpected EOF";
  /** Go's scanner refuses nesting deeper than this. */
  private static final int MAX_DEPTH = 10_000;

  private final byte[] in;
  private int pos;
  private int depth;
  private int lastOpen = '[';

  private GoJson(byte[] in) {
    this.in = in;
  }

  /** True when the body holds nothing but JSON whitespace: Go reports that as io.EOF. */
  static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (!isSpace(b)) {
        return false;
      }
    }
    return true;
  }

  /** Parses the first JSON value of a non-blank body. */
  static Object parse(byte[] body) throws SyntaxError {
    GoJson p = new GoJson(body);
    p.skipSpace();
    try {
      return p.value();
    } catch (StackOverflowError e) {
      // A small thread stack can give out before Go's depth limit: same verdict.
      throw p.invalid(p.lastOpen, "exceeded max depth");
    }
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private void skipSpace() {
    while (pos < in.length && isSpace(in[pos])) {
      pos++;
    }
  }

  private int next() throws SyntaxError {
    if (pos >= in.length) {
      throw new SyntaxError(UNEXPECTED_EOF);
    }
    return in[pos] & 0xff;
  }

  private SyntaxError invalid(int c, String context) {
    return new SyntaxError("invalid character " + GoScanner.quoteChar(c) + " " + context);
  }

  private Object value() throws SyntaxError {
    int c = next();
    switch (c) {
      case '{':
        pos++;
        enter(c);
        Map<String, Object> map = object();
        depth--;
        return map;
      case '[':
        pos++;
        enter(c);
        List<Object> list = array();
        depth--;
        return list;
      case '"':
        pos++;
        return string();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return null;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw invalid(c, "looking for beginning of value");
    }
  }

  private void enter(int open) throws SyntaxError {
    lastOpen = open;
    if (++depth > MAX_DEPTH) {
      throw invalid(open, "exceeded max depth");
    }
  }

  private Map<String, Object> object() throws SyntaxError {
    Map<String, Object> map = new LinkedHashMap<>();
    skipSpace();
    if (next() == '}') {
      pos++;
      return map;
    }
    while (true) {
      int c = next();
      if (c != '"') {
        throw invalid(c, "looking for beginning of object key string");
      }
      pos++;
      String key = string();
      skipSpace();
      c = next();
      if (c != ':') {
        throw invalid(c, "after object key");
      }
      pos++;
      skipSpace();
      map.put(key, value());
      skipSpace();
      c = next();
      pos++;
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        throw invalid(c, "after object key:value pair");
      }
      skipSpace();
    }
  }

  private List<Object> array() throws SyntaxError {
    List<Object> list = new ArrayList<>();
    skipSpace();
    if (next() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipSpace();
      list.add(value());
      skipSpace();
      int c = next();
      pos++;
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        throw invalid(c, "after array element");
      }
    }
  }

  private String string() throws SyntaxError {
    int start = pos;
    // Fast path: no escapes, plain bytes up to the closing quote.
    while (true) {
      int c = next();
      if (c == '"') {
        String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
      }
      if (c == '\\') {
        break;
      }
      if (c < 0x20) {
        throw invalid(c, "in string literal");
      }
      pos++;
    }
    StringBuilder sb = new StringBuilder(new String(in, start, pos - start, StandardCharsets.UTF_8));
    int runStart = -1;
    while (true) {
      int c = next();
      if (c == '"' || c == '\\') {
        if (runStart >= 0) {
          sb.append(new String(in, runStart, pos - runStart, StandardCharsets.UTF_8));
          runStart = -1;
        }
        pos++;
        if (c == '"') {
          return sb.toString();
        }
        escape(sb);
        continue;
      }
      if (c < 0x20) {
        throw invalid(c, "in string literal");
      }
      if (runStart < 0) {
        runStart = pos;
      }
      pos++;
    }
  }

  private void escape(StringBuilder sb) throws SyntaxError {
    int c = next();
    pos++;
    switch (c) {
      case '"' -> sb.append('"');
      case '\\' -> sb.append('\\');
      case '/' -> sb.append('/');
      case 'b' -> sb.append('\b');
      case 'f' -> sb.append('\f');
      case 'n' -> sb.append('\n');
      case 'r' -> sb.append('\r');
      case 't' -> sb.append('\t');
      case 'u' -> {
        char hi = hex4();
        if (Character.isHighSurrogate(hi) && pos + 1 < in.length && in[pos] == '\\' && in[pos + 1] == 'u') {
          int save = pos;
          pos += 2;
          char lo = hex4();
          if (Character.isLowSurrogate(lo)) {
            sb.append(hi).append(lo);
            return;
          }
          pos = save;
        }
        // Go turns a lone surrogate into U+FFFD.
        sb.append(Character.isSurrogate(hi) ? '\uFFFD' : hi);
      }
      default -> throw invalid(c, "in string escape code");
    }
  }

  private char hex4() throws SyntaxError {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int c = next();
      int d = Character.digit(c, 16);
      if (d < 0 || c > 'f') {
        throw invalid(c, "in \\u hexadecimal character escape");
      }
      v = v * 16 + d;
      pos++;
    }
    return (char) v;
  }

  private Num number() throws SyntaxError {
    int start = pos;
    if (in[pos] == '-') {
      pos++;
      int c = next();
      if (c < '0' || c > '9') {
        throw invalid(c, "in numeric literal");
      }
    }
    if (in[pos] == '0') {
      pos++;
    } else {
      digits();
    }
    if (pos < in.length && in[pos] == '.') {
      pos++;
      int c = next();
      if (c < '0' || c > '9') {
        throw invalid(c, "after decimal point in numeric literal");
      }
      digits();
    }
    if (pos < in.length && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      int c = next();
      if (c == '+' || c == '-') {
        pos++;
        c = next();
      }
      if (c < '0' || c > '9') {
        throw invalid(c, "in exponent of numeric literal");
      }
      digits();
    }
    return new Num(new String(in, start, pos - start, StandardCharsets.US_ASCII));
  }

  private void digits() {
    while (pos < in.length && in[pos] >= '0' && in[pos] <= '9') {
      pos++;
    }
  }

  private void literal(String word) throws SyntaxError {
    pos++;
    for (int i = 1; i < word.length(); i++) {
      int c = next();
      if (c != word.charAt(i)) {
        throw invalid(c, "in literal " + word + " (expecting " + GoScanner.quoteChar(word.charAt(i)) + ")");
      }
      pos++;
    }
  }
}
