package io.hivemesh.json;

/** Go's string quoting ({@code %q}, {@code strconv.Quote}), used in Ollama's error messages. */
public final class GoText {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private GoText() {
  }

  /** {@code fmt.Sprintf("%q", s)}. */
  public static String quote(String s) {
    return "\"" + quoteBody(s) + "\"";
  }

  /** The inside of {@code strconv.Quote(s)}. */
  public static String quoteBody(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2);
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      switch (cp) {
        case 7 -> sb.append("\\a");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case 11 -> sb.append("\\v");
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        default -> {
          if (isPrint(cp)) {
            sb.appendCodePoint(cp);
          } else if (cp < ' ' || cp == 0x7f) {
            sb.append("\\x").append(HEX[cp >> 4]).append(HEX[cp & 0xf]);
          } else if (cp < 0x10000) {
            sb.append("\\u");
            hex(sb, cp, 4);
          } else {
            sb.append("\\U");
            hex(sb, cp, 8);
          }
        }
      }
    }
    return sb.toString();
  }

  private static void hex(StringBuilder sb, int v, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
      sb.append(HEX[(v >> shift) & 0xf]);
    }
  }

  /** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
  private static boolean isPrint(int cp) {
    if (cp == ' ') {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
          Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SPACE_SEPARATOR:
        return false;
      default:
        return true;
    }
  }
}
