package io.hivemesh.sim;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Clock and timestamp formats as Ollama writes them: {@code created_at} is Go's RFC 3339 with
 * nanoseconds in UTC ({@code 2024-05-01T10:00:00.123456789Z}, trailing zeros dropped), while
 * {@code modified_at} and {@code expires_at} are local times with an offset.
 */
final class GoTime {

  /** Nanoseconds since the epoch at {@link #BASE_MONO}: wall time with System.nanoTime's resolution. */
  private static final long BASE_EPOCH_NANOS;
  private static final long BASE_MONO = System.nanoTime();
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH);

  static {
    Instant now = Instant.now();
    BASE_EPOCH_NANOS = now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Second-resolution prefix cache: formatting the date part once per second keeps chunks cheap. */
  private record Cached(long second, String text) {
  }

  private static volatile Cached utcPrefix = new Cached(Long.MIN_VALUE, "");
  private static volatile Cached httpDate = new Cached(Long.MIN_VALUE, "");

  private GoTime() {
  }

  static long epochNanos() {
    return BASE_EPOCH_NANOS + (System.nanoTime() - BASE_MONO);
  }

  /** {@code time.Now().UTC()} marshalled by Go. */
  static String nowUtc() {
    long n = epochNanos();
    long sec = Math.floorDiv(n, 1_000_000_000L);
    int nanos = (int) Math.floorMod(n, 1_000_000_000L);
    Cached c = utcPrefix;
    if (c.second != sec) {
      c = new Cached(sec, LocalDateTime.ofEpochSecond(sec, 0, ZoneOffset.UTC).format(SECONDS));
      utcPrefix = c;
    }
    StringBuilder sb = new StringBuilder(32).append(c.text);
    appendFraction(sb, nanos);
    return sb.append('Z').toString();
  }

  /** Unix seconds now, for OpenAI's {@code created}. */
  static long unixNow() {
    return Math.floorDiv(epochNanos(), 1_000_000_000L);
  }

  /** An instant in the local zone with Go's RFC3339Nano layout. */
  static String local(Instant t) {
    ZonedDateTime z = t.atZone(ZoneId.systemDefault());
    StringBuilder sb = new StringBuilder(40).append(z.format(SECONDS));
    appendFraction(sb, z.getNano());
    int offset = z.getOffset().getTotalSeconds();
    if (offset == 0) {
      return sb.append('Z').toString();
    }
    sb.append(offset < 0 ? '-' : '+');
    int abs = Math.abs(offset);
    return sb.append(String.format(Locale.ROOT, "%02d:%02d", abs / 3600, (abs / 60) % 60)).toString();
  }

  /** The instant {@code nanos} from now, saturating like Go's Time.Add for "forever" keep-alives. */
  static Instant fromNow(long nanos) {
    long now = epochNanos();
    Instant base = Instant.ofEpochSecond(Math.floorDiv(now, 1_000_000_000L), Math.floorMod(now, 1_000_000_000L));
    return base.plusNanos(nanos);
  }

  static Instant now() {
    return fromNow(0);
  }

  /** The value of Go's {@code Date} response header. */
  static String httpDate() {
    long sec = Math.floorDiv(epochNanos(), 1_000_000_000L);
    Cached c = httpDate;
    if (c.second != sec) {
      c = new Cached(sec, LocalDateTime.ofEpochSecond(sec, 0, ZoneOffset.UTC).format(HTTP_DATE));
      httpDate = c;
    }
    return c.text;
  }

  private static void appendFraction(StringBuilder sb, int nanos) {
    if (nanos == 0) {
      return;
    }
    String digits = Integer.toString(nanos + 1_000_000_000).substring(1);
    int end = digits.length();
    while (digits.charAt(end - 1) == '0') {
      end--;
    }
    sb.append('.').append(digits, 0, end);
  }
}
