package io.hivemesh.json;

import java.nio.charset.StandardCharsets;

/**
 * One forward pass over JSON bytes that accepts and refuses exactly what Go's {@code encoding/json}
 * Decoder does, with its error texts ({@code invalid character 'x' looking for beginning of value},
 * {@code unexpected EOF}, its depth limit), because Ollama answers with them and clients show them.
 * It builds nothing: the caller walks an object's members and reads the few values it wants, and
 * {@link #skipValue()} checks the rest without allocating. Skipping is a loop, not a recursion, so
 * no body, however deep, can run a thread out of stack.
 */
public final class GoScanner {

  /** A syntax error carrying Go's message; built without a stack trace (a client's error, not ours). */
  public static final class SyntaxError extends Exception {
    private static final long serialVersionUID = 1L;

    public SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  /** Go's scanner refuses nesting deeper than this. */
  public static final int MAX_DEPTH = 10_000;
  private static final String UNEXPECTED_EOF = "unexpected EOF";
  /** The bytes that end a run of plain bytes inside a string: its closing quote, an escape, a control character. */
  private static final boolean[] STRING_STOP = new boolean[256];

  static {
    for (int c = 0; c < 0x20; c++) {
      STRING_STOP[c] = true;
    }
    STRING_STOP['"'] = true;
    STRING_STOP['\\'] = true;
  }

  private final byte[] in;
  private final int end;
  private int pos;
  private int depth;
  /** Whether each open container is an object (bit set) or an array, the innermost in bit 0 of the first word. */
  private long[] objects = new long[1];

  /** Scans {@code in[from, to)}. */
  public GoScanner(byte[] in, int from, int to) {
    this.in = in;
    this.pos = from;
    this.end = to;
  }

  /** Skips JSON whitespace; true when the input has no more bytes. */
  public boolean skipSpaceToEnd() {
    while (pos < end && isSpace(in[pos])) {
      pos++;
    }
    return pos == end;
  }

  /** The next byte (0 to 255) without taking it; fails with "unexpected EOF" at the end. */
  public int peek() throws SyntaxError {
    if (pos >= end) {
      throw new SyntaxError(UNEXPECTED_EOF);
    }
    return in[pos] & 0xff;
  }

  /** Takes the '{' the input stands at (see {@link #peek()}) and opens the object. */
  public void beginObject() throws SyntaxError {
    pos++;
    open(true, '{');
  }

  /**
   * Moves to the object's next member: true with the scanner at the member's key (read it with
   * {@link #keyIs} or {@link #string()}, then call {@link #colon()}), false once the object closed.
   * {@code first} is true before the first member.
   */
  public boolean nextMember(boolean first) throws SyntaxError {
    skipSpace();
    int c = peek();
    if (first && c == '}') {
      pos++;
      depth--;
      return false;
    }
    if (!first) {
      if (c == '}') {
        pos++;
        depth--;
        return false;
      }
      if (c != ',') {
        throw invalid(c, "after object key:value pair");
      }
      pos++;
      skipSpace();
      c = peek();
    }
    if (c != '"') {
      throw invalid(c, "looking for beginning of object key string");
    }
    return true;
  }

  /**
   * Whether the key the scanner stands at is {@code name}, as Go matches a JSON key to a struct
   * field's name ({@code foldCase}: ASCII letters in either case) or a map's key (exactly). The
   * scanner stays at the key.
   */
  public boolean keyIs(String name, boolean foldCase) throws SyntaxError {
    int p = pos + 1;
    int n = name.length();
    if (p + n < end && in[p + n] == '"') {
      for (int i = 0; i < n; i++) {
        int b = in[p + i];
        int c = name.charAt(i);
        if (b != c && !(foldCase && (b | 0x20) == (c | 0x20) && (c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
          return false;
        }
      }
      return true;
    }
    // Only an escaped key can still be the name; rare enough to read it the long way.
    for (int i = p; i < end && in[i] != '"'; i++) {
      if (in[i] == '\\') {
        int at = pos;
        String key = string();
        pos = at;
        return foldCase ? key.equalsIgnoreCase(name) : key.equals(name);
      }
    }
    return false;
  }

  /** Skips the key the scanner stands at and the colon after it; the scanner is then at the value. */
  public void colon() throws SyntaxError {
    pos++;
    skipString();
    afterKey();
  }

  /** Takes the colon after a key already read ({@link #string()}); the scanner is then at the value. */
  public void afterKey() throws SyntaxError {
    skipSpace();
    int c = peek();
    if (c != ':') {
      throw invalid(c, "after object key");
    }
    pos++;
    skipSpace();
  }

  /** Takes the '[' the input stands at (see {@link #peek()}) and opens the array. */
  public void beginArray() throws SyntaxError {
    pos++;
    open(false, '[');
  }

  /**
   * Moves to the array's next element: true with the scanner at the element's value, false once the
   * array closed. {@code first} is true before the first element.
   */
  public boolean nextElement(boolean first) throws SyntaxError {
    skipSpace();
    int c = peek();
    if (c == ']') {
      pos++;
      depth--;
      return false;
    }
    if (!first) {
      if (c != ',') {
        throw invalid(c, "after array element");
      }
      pos++;
      skipSpace();
    }
    return true;
  }

  /** Reads the number the scanner stands at as written, checked against JSON's grammar. */
  public String numberText() throws SyntaxError {
    int start = pos;
    skipNumber();
    return new String(in, start, pos - start, StandardCharsets.US_ASCII);
  }

  /**
   * Reads the literal the scanner stands at ({@code true}, {@code false} or {@code null}, by its
   * first byte): true or false, null for {@code null}.
   */
  public Boolean literal() throws SyntaxError {
    return switch (in[pos]) {
      case 't' -> {
        literal("true");
        yield Boolean.TRUE;
      }
      case 'f' -> {
        literal("false");
        yield Boolean.FALSE;
      }
      default -> {
        literal("null");
        yield null;
      }
    };
  }

  /** Reads the string the scanner stands at (its opening quote), unescaped. */
  public String string() throws SyntaxError {
    int start = ++pos;
    int p = pos;
    while (p < end && !STRING_STOP[in[p] & 0xff]) {
      p++;
    }
    pos = p;
    int c = peek();
    if (c == '"') {
      pos++;
      return new String(in, start, p - start, StandardCharsets.UTF_8);
    }
    if (c != '\\') {
      throw invalid(c, "in string literal");
    }
    StringBuilder sb = new StringBuilder(new String(in, start, pos - start, StandardCharsets.UTF_8));
    int run = pos;
    while (true) {
      c = peek();
      if (c == '"' || c == '\\') {
        sb.append(new String(in, run, pos - run, StandardCharsets.UTF_8));
        pos++;
        if (c == '"') {
          return sb.toString();
        }
        unescape(sb);
        run = pos;
      } else if (c < 0x20) {
        throw invalid(c, "in string literal");
      } else {
        pos++;
      }
    }
  }

  /**
   * Reads the number the scanner stands at as a Go int64 would take it: its value, or
   * {@code notAnInt} for a fraction, an exponent or a value past a long.
   */
  public long integer(long notAnInt) throws SyntaxError {
    int start = pos;
    skipNumber();
    int p = start;
    boolean negative = in[p] == '-';
    if (negative) {
      p++;
    }
    long value = 0;
    for (; p < pos; p++) {
      int d = in[p] - '0';
      if (d < 0 || d > 9 || value < (Long.MIN_VALUE + d) / 10) {
        return notAnInt;
      }
      value = value * 10 - d;
    }
    if (!negative && value == Long.MIN_VALUE) {
      return notAnInt;
    }
    return negative ? value : -value;
  }

  /** Checks the value the scanner stands at, whatever it is and however deep, and moves past it. */
  public void skipValue() throws SyntaxError {
    int base = depth;
    while (true) {
      // At the start of a value.
      int c = peek();
      switch (c) {
        case '{' -> {
          pos++;
          open(true, c);
          skipSpace();
          c = peek();
          if (c == '}') {
            pos++;
            depth--;
          } else {
            if (c != '"') {
              throw invalid(c, "looking for beginning of object key string");
            }
            colon();
            continue;
          }
        }
        case '[' -> {
          pos++;
          open(false, c);
          skipSpace();
          if (peek() == ']') {
            pos++;
            depth--;
          } else {
            continue;
          }
        }
        case '"' -> {
          pos++;
          skipString();
        }
        case 't' -> literal("true");
        case 'f' -> literal("false");
        case 'n' -> literal("null");
        default -> {
          if (c != '-' && (c < '0' || c > '9')) {
            throw invalid(c, "looking for beginning of value");
          }
          skipNumber();
        }
      }
      // After a value: close what it completes, up to the next value to check.
      while (true) {
        if (depth == base) {
          return;
        }
        skipSpace();
        c = peek();
        pos++;
        if (isObject(depth)) {
          if (c == '}') {
            depth--;
            continue;
          }
          if (c != ',') {
            throw invalid(c, "after object key:value pair");
          }
          skipSpace();
          c = peek();
          if (c != '"') {
            throw invalid(c, "looking for beginning of object key string");
          }
          colon();
        } else {
          if (c == ']') {
            depth--;
            continue;
          }
          if (c != ',') {
            throw invalid(c, "after array element");
          }
          skipSpace();
        }
        break;
      }
    }
  }

  /** Go's quoteChar: a byte as the rune of that number, {@code strconv.Quote}d, in single quotes. */
  public static String quoteChar(int c) {
    if (c == '\'') {
      return "'\\''";
    }
    if (c == '"') {
      return "'\"'";
    }
    return "'" + GoText.quoteBody(String.valueOf((char) c)) + "'";
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private void skipSpace() {
    while (pos < end && isSpace(in[pos])) {
      pos++;
    }
  }

  private SyntaxError invalid(int c, String context) {
    return new SyntaxError("invalid character " + quoteChar(c) + " " + context);
  }

  private void open(boolean object, int c) throws SyntaxError {
    if (++depth > MAX_DEPTH) {
      throw invalid(c, "exceeded max depth");
    }
    int word = (depth - 1) >>> 6;
    if (word == objects.length) {
      objects = java.util.Arrays.copyOf(objects, objects.length * 2);
    }
    long bit = 1L << ((depth - 1) & 63);
    objects[word] = object ? objects[word] | bit : objects[word] & ~bit;
  }

  private boolean isObject(int level) {
    return (objects[(level - 1) >>> 6] & (1L << ((level - 1) & 63))) != 0;
  }

  /** Skips a string's bytes after its opening quote, through its closing one. */
  private void skipString() throws SyntaxError {
    // The hot loop of a long conversation: plain bytes are passed in a tight loop over the array.
    byte[] b = in;
    int p = pos;
    while (true) {
      while (p < end && !STRING_STOP[b[p] & 0xff]) {
        p++;
      }
      pos = p;
      int c = peek();
      pos = ++p;
      if (c == '"') {
        return;
      }
      if (c != '\\') {
        throw invalid(c, "in string literal");
      }
      c = peek();
      pos = ++p;
      switch (c) {
        case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
        }
        case 'u' -> {
          hex4();
          p = pos;
        }
        default -> throw invalid(c, "in string escape code");
      }
    }
  }

  private void unescape(StringBuilder sb) throws SyntaxError {
    int c = peek();
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
        if (Character.isHighSurrogate(hi) && pos + 1 < end && in[pos] == '\\' && in[pos + 1] == 'u') {
          int at = pos;
          pos += 2;
          char lo = hex4();
          if (Character.isLowSurrogate(lo)) {
            sb.append(hi).append(lo);
            return;
          }
          pos = at;
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
      int c = peek();
      int d = c <= 'f' ? Character.digit(c, 16) : -1;
      if (d < 0) {
        throw invalid(c, "in \\u hexadecimal character escape");
      }
      v = v * 16 + d;
      pos++;
    }
    return (char) v;
  }

  private void skipNumber() throws SyntaxError {
    if (in[pos] == '-') {
      pos++;
      int c = peek();
      if (c < '0' || c > '9') {
        throw invalid(c, "in numeric literal");
      }
    }
    if (in[pos] == '0') {
      pos++;
    } else {
      digits();
    }
    if (pos < end && in[pos] == '.') {
      pos++;
      int c = peek();
      if (c < '0' || c > '9') {
        throw invalid(c, "after decimal point in numeric literal");
      }
      digits();
    }
    if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      int c = peek();
      if (c == '+' || c == '-') {
        pos++;
        c = peek();
      }
      if (c < '0' || c > '9') {
        throw invalid(c, "in exponent of numeric literal");
      }
      digits();
    }
  }

  private void digits() {
    while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
      pos++;
    }
  }

  private void literal(String word) throws SyntaxError {
    pos++;
    for (int i = 1; i < word.length(); i++) {
      int c = peek();
      if (c != word.charAt(i)) {
        throw invalid(c, "in literal " + word + " (expecting " + quoteChar(word.charAt(i)) + ")");
      }
      pos++;
    }
  }
}
