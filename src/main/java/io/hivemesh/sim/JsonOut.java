package io.hivemesh.sim;

import io.vertx.core.buffer.Buffer;

/**
 * A small JSON writer that produces what Go's {@code json.Marshal} produces: fields in the order
 * written, HTML-safe escaping ({@code <} as {@code \u003c}), Go's float formatting. Ollama's bytes
 * are what clients see, so the emulator writes the same bytes rather than whatever a Java mapper would.
 */
final class JsonOut {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final StringBuilder sb;
  private boolean comma;

  JsonOut() {
    this(new StringBuilder(256));
  }

  JsonOut(StringBuilder sb) {
    this.sb = sb;
  }

  StringBuilder builder() {
    return sb;
  }

  Buffer toBuffer() {
    return Buffer.buffer(sb.toString());
  }

  @Override
  public String toString() {
    return sb.toString();
  }

  /** Ends the current line (NDJSON, or json.Encoder's trailing newline) and starts a fresh value. */
  JsonOut newline() {
    sb.append('\n');
    comma = false;
    return this;
  }

  /** Appends raw text between values (SSE framing), resetting the separator state. */
  JsonOut text(String raw) {
    sb.append(raw);
    comma = false;
    return this;
  }

  JsonOut obj() {
    sep();
    sb.append('{');
    comma = false;
    return this;
  }

  JsonOut end() {
    sb.append('}');
    comma = true;
    return this;
  }

  JsonOut arr() {
    sep();
    sb.append('[');
    comma = false;
    return this;
  }

  JsonOut endArr() {
    sb.append(']');
    comma = true;
    return this;
  }

  JsonOut key(String name) {
    sep();
    sb.append('"').append(name).append("\":");
    comma = false;
    return this;
  }

  JsonOut str(String s) {
    sep();
    string(sb, s);
    comma = true;
    return this;
  }

  JsonOut num(long v) {
    sep();
    sb.append(v);
    comma = true;
    return this;
  }

  JsonOut bool(boolean v) {
    sep();
    sb.append(v);
    comma = true;
    return this;
  }

  JsonOut nul() {
    sep();
    sb.append("null");
    comma = true;
    return this;
  }

  /** A float32 value the way Go encodes one. */
  JsonOut f32(float v) {
    sep();
    sb.append(goFloat(Float.toString(v), Math.abs(v), 1e21f));
    comma = true;
    return this;
  }

  /** A float64 value the way Go encodes one. */
  JsonOut f64(double v) {
    sep();
    sb.append(goFloat(Double.toString(v), Math.abs(v), 1e21));
    comma = true;
    return this;
  }

  JsonOut field(String name, String value) {
    return key(name).str(value);
  }

  JsonOut field(String name, long value) {
    return key(name).num(value);
  }

  JsonOut field(String name, boolean value) {
    return key(name).bool(value);
  }

  /** A field Go tags {@code omitempty}: skipped when zero. */
  JsonOut fieldNonZero(String name, long value) {
    return value == 0 ? this : key(name).num(value);
  }

  /** A field Go tags {@code omitempty}: skipped when empty. */
  JsonOut fieldNonEmpty(String name, String value) {
    return value == null || value.isEmpty() ? this : key(name).str(value);
  }

  private void sep() {
    if (comma) {
      sb.append(',');
    }
  }

  /** Go's encodeState.string with escapeHTML: the escaping json.Marshal applies. */
  static void string(StringBuilder sb, String s) {
    sb.append('"');
    int len = s.length();
    int start = 0;
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x2028) {
        continue;
      }
      if (c >= 0x2028 && c != 0x2028 && c != 0x2029 && !Character.isSurrogate(c)) {
        continue;
      }
      if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
        continue;
      }
      sb.append(s, start, i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          // Lone surrogates are invalid UTF-8 in Go's eyes and become U+FFFD.
          int v = Character.isSurrogate(c) ? 0xfffd : c;
          sb.append("\\u").append(HEX[(v >> 12) & 0xf]).append(HEX[(v >> 8) & 0xf])
              .append(HEX[(v >> 4) & 0xf]).append(HEX[v & 0xf]);
        }
      }
      start = i + 1;
    }
    sb.append(s, start, len).append('"');
  }

  /**
   * Rewrites Java's shortest float text into Go's: plain decimals between 1e-6 and 1e21, otherwise
   * exponent form with a minimal exponent ({@code 1e-7}, {@code 1.5e+21}); no trailing {@code .0}.
   */
  static String goFloat(String javaText, double abs, double expLimit) {
    if (javaText.equals("NaN") || javaText.contains("Infinity")) {
      return "null";
    }
    boolean neg = javaText.startsWith("-");
    String t = neg ? javaText.substring(1) : javaText;
    int e = t.indexOf('E');
    String mantissa = e < 0 ? t : t.substring(0, e);
    int exp = e < 0 ? 0 : Integer.parseInt(t.substring(e + 1));
    int dot = mantissa.indexOf('.');
    String intPart = mantissa.substring(0, dot);
    String frac = mantissa.substring(dot + 1);
    // Digits without the point, and where the point sits relative to them.
    String digits = intPart + frac;
    int point = intPart.length() + exp;
    int lead = 0;
    while (lead < digits.length() - 1 && digits.charAt(lead) == '0') {
      lead++;
      point--;
    }
    digits = digits.substring(lead);
    int endDigits = digits.length();
    while (endDigits > 1 && digits.charAt(endDigits - 1) == '0') {
      endDigits--;
    }
    digits = digits.substring(0, endDigits);
    StringBuilder out = new StringBuilder(24);
    if (neg) {
      out.append('-');
    }
    if (abs == 0) {
      return out.append('0').toString();
    }
    if (abs < 1e-6 || abs >= expLimit) {
      out.append(digits.charAt(0));
      if (digits.length() > 1) {
        out.append('.').append(digits, 1, digits.length());
      }
      int e10 = point - 1;
      out.append('e').append(e10 < 0 ? '-' : '+').append(Math.abs(e10));
      return out.toString();
    }
    if (point <= 0) {
      out.append("0.");
      for (int i = 0; i < -point; i++) {
        out.append('0');
      }
      out.append(digits);
    } else if (point >= digits.length()) {
      out.append(digits);
      for (int i = digits.length(); i < point; i++) {
        out.append('0');
      }
    } else {
      out.append(digits, 0, point).append('.').append(digits, point, digits.length());
    }
    return out.toString();
  }
}
