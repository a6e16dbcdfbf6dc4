package io.hivemesh.sim;

import io.hivemesh.json.GoText;
import java.util.Map;

/**
 * Ollama's {@code keep_alive}: a number of seconds or a Go duration string ({@code "5m"},
 * {@code "1h30m"}, {@code "0"}); negative means forever. Parsing errors carry Go's texts because
 * Ollama returns them verbatim with a 400.
 */
final class KeepAlive {

  /** Stand-in for Go's math.MaxInt64 duration: never unload. */
  static final long FOREVER = Long.MAX_VALUE;
  static final long DEFAULT_NANOS = 5L * 60 * 1_000_000_000L;

  private static final Map<String, Long> UNITS = Map.of(
      "ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L, "ms", 1_000_000L,
      "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

  private KeepAlive() {
  }

  /**
   * The keep-alive in nanoseconds from a decoded JSON value, or null when absent.
   *
   * @throws ApiException 400 with Go's message for a bad value
   */
  static Long fromJson(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof GoJson.Num n) {
      double seconds = n.doubleValue();
      if (seconds < 0) {
        return FOREVER;
      }
      double nanos = seconds * 1e9;
      return nanos >= Long.MAX_VALUE ? FOREVER : (long) nanos;
    }
    if (v instanceof String s) {
      long d = parseDuration(s);
      return d < 0 ? FOREVER : d;
    }
    String type = v instanceof Boolean ? "bool" : v instanceof Map ? "map[string]interface {}" : "[]interface {}";
    throw new ApiException(400, "Unsupported type: '" + type + "'");
  }

  /** Go's time.ParseDuration. */
  static long parseDuration(String orig) {
    String s = orig;
    boolean neg = false;
    if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
      neg = s.charAt(0) == '-';
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return 0;
    }
    if (s.isEmpty()) {
      throw invalid(orig);
    }
    double total = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        throw invalid(orig);
      }
      int startInt = i;
      while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) {
        i++;
      }
      boolean pre = i > startInt;
      String intPart = s.substring(startInt, i);
      String frac = "";
      boolean post = false;
      if (i < s.length() && s.charAt(i) == '.') {
        i++;
        int startFrac = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
          i++;
        }
        frac = s.substring(startFrac, i);
        post = !frac.isEmpty();
      }
      if (!pre && !post) {
        throw invalid(orig);
      }
      int startUnit = i;
      while (i < s.length() && s.charAt(i) != '.' && (s.charAt(i) < '0' || s.charAt(i) > '9')) {
        i++;
      }
      String unit = s.substring(startUnit, i);
      if (unit.isEmpty()) {
        throw new ApiException(400, "time: missing unit in duration " + GoText.quote(orig));
      }
      Long scale = UNITS.get(unit);
      if (scale == null) {
        throw new ApiException(400, "time: unknown unit " + GoText.quote(unit) + " in duration " + GoText.quote(orig));
      }
      double value = (intPart.isEmpty() ? 0 : Double.parseDouble(intPart))
          + (frac.isEmpty() ? 0 : Double.parseDouble("0." + frac));
      total += value * scale;
      if (total > Long.MAX_VALUE) {
        throw invalid(orig);
      }
    }
    long nanos = (long) total;
    return neg ? -nanos : nanos;
  }

  private static ApiException invalid(String orig) {
    return new ApiException(400, "time: invalid duration " + GoText.quote(orig));
  }
}
