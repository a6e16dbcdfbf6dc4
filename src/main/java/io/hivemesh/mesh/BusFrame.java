package io.hivemesh.mesh;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One message of the stream protocol ({@link BusProtocol}), carried whole in the bus message's
 * body: a fixed prefix, the few strings its kind needs, then the payload. Bus headers would cost
 * a case-insensitive map per frame and a string per field, written and parsed again on every
 * message of the hot path; the prefix is a few fixed-width reads.
 *
 * <pre>
 * 0  version       byte   ({@link #VERSION}; a frame of another version is dropped, not guessed at)
 * 1  kind          byte   ({@link Kind#code})
 * 2  flags         byte   ({@link #LAST}, {@link #RETRYABLE}, {@link #CHUNK})
 * 3  stream id     long
 * 11 seq           int    (head with a chunk, data, end)
 * 15 value         int    (open and credit: chunks granted; head and err: HTTP status, 0 if none)
 * 19 from          string (the sender's inbox)
 *    open: method, uri, model key, headers;  head: site, headers
 *    payload       the rest (request body, chunk, error message)
 * </pre>
 * A string is its UTF-8 length (int) and bytes; headers are a count (int) and name/value strings.
 * A frame is mutable until sent: a held frame learns it is the last one after it was built.
 */
final class BusFrame {

  /**
   * 2: every message goes one way, the open's ack and refusal are frames to the origin's inbox
   * (version 1 answered the open and the abandon as bus replies).
   */
  static final byte VERSION = 2;

  /** The stream ends after this frame's chunk, as an end frame with the next sequence number would say. */
  static final int LAST = 1;
  /** On an error before the head: the origin may try another site. */
  static final int RETRYABLE = 2;
  /** On a head: it carries the answer's first chunk and sequence number 0. */
  static final int CHUNK = 4;

  private static final int FIXED = 19;

  enum Kind {
    OPEN(1), HEAD(2), DATA(3), END(4), ERROR(5), GRANT(6), CANCEL(7), ABANDON(8), PING(9), ACK(10);

    private static final Kind[] BY_CODE = new Kind[11];

    static {
      for (Kind k : values()) {
        BY_CODE[k.code] = k;
      }
    }

    final byte code;

    Kind(int code) {
      this.code = (byte) code;
    }

    /** Null for a code this release does not know (a newer peer's). */
    static Kind of(int code) {
      return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
  }

  /** Null when the frame came with a kind this release does not know. */
  final Kind kind;
  final long sid;
  final String from;
  int flags;
  int seq;
  int value;
  String method;
  String uri;
  String model;
  String site;
  MultiMap headers;
  Buffer payload;

  BusFrame(Kind kind, long sid, String from) {
    this.kind = kind;
    this.sid = sid;
    this.from = from;
  }

  boolean has(int flag) {
    return (flags & flag) != 0;
  }

  BusFrame flag(int flag) {
    flags |= flag;
    return this;
  }

  BusFrame seq(int seq) {
    this.seq = seq;
    return this;
  }

  BusFrame value(int value) {
    this.value = value;
    return this;
  }

  BusFrame payload(Buffer payload) {
    this.payload = payload;
    return this;
  }

  Buffer encode() {
    int size = FIXED + 64 + (payload == null ? 0 : payload.length());
    Buffer out = Buffer.buffer(size)
        .appendByte(VERSION).appendByte(kind.code).appendByte((byte) flags)
        .appendLong(sid).appendInt(seq).appendInt(value);
    appendString(out, from);
    if (kind == Kind.OPEN) {
      appendString(out, method);
      appendString(out, uri);
      appendString(out, model);
      appendHeaders(out, headers);
    } else if (kind == Kind.HEAD) {
      appendString(out, site);
      appendHeaders(out, headers);
    }
    if (payload != null) {
      out.appendBuffer(payload);
    }
    return out;
  }

  /**
   * Reads a frame; the payload is a slice of {@code in}, not a copy.
   *
   * @throws IllegalArgumentException if {@code in} is not a frame of this version
   */
  static BusFrame decode(Buffer in) {
    if (in == null || in.length() < FIXED + 4) {
      throw new IllegalArgumentException("not a stream frame");
    }
    if (in.getByte(0) != VERSION) {
      throw new IllegalArgumentException("stream frame of protocol version " + in.getByte(0) + ", this node speaks " + VERSION);
    }
    try {
      Kind kind = Kind.of(in.getByte(1));
      int[] pos = {FIXED};
      BusFrame f = new BusFrame(kind, in.getLong(3), readString(in, pos));
      f.flags = in.getByte(2);
      f.seq = in.getInt(11);
      f.value = in.getInt(15);
      if (kind == Kind.OPEN) {
        f.method = readString(in, pos);
        f.uri = readString(in, pos);
        f.model = readString(in, pos);
        f.headers = readHeaders(in, pos);
      } else if (kind == Kind.HEAD) {
        f.site = readString(in, pos);
        f.headers = readHeaders(in, pos);
      }
      f.payload = in.slice(pos[0], in.length());
      return f;
    } catch (IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("truncated stream frame");
    }
  }

  private static void appendString(Buffer out, String s) {
    byte[] bytes = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    out.appendInt(bytes.length).appendBytes(bytes);
  }

  private static String readString(Buffer in, int[] pos) {
    int len = in.getInt(pos[0]);
    int start = pos[0] + 4;
    if (len < 0 || start + len > in.length()) {
      throw new IndexOutOfBoundsException();
    }
    pos[0] = start + len;
    return in.getString(start, start + len, "UTF-8");
  }

  private static void appendHeaders(Buffer out, MultiMap headers) {
    // MultiMap.size() counts names, not entries: the count is written once they are.
    int at = out.length();
    int n = 0;
    out.appendInt(0);
    for (Map.Entry<String, String> e : headers == null ? MultiMap.caseInsensitiveMultiMap() : headers) {
      appendString(out, e.getKey());
      appendString(out, e.getValue());
      n++;
    }
    out.setInt(at, n);
  }

  private static MultiMap readHeaders(Buffer in, int[] pos) {
    int n = in.getInt(pos[0]);
    pos[0] += 4;
    if (n < 0 || n > (in.length() - pos[0]) / 8) {
      throw new IndexOutOfBoundsException();
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < n; i++) {
      headers.add(readString(in, pos), readString(in, pos));
    }
    return headers;
  }

  /** For logs and tests: the kind in lower case, "+last" if the stream ends with it. */
  @Override
  public String toString() {
    return (kind == null ? "unknown" : kind.name().toLowerCase(java.util.Locale.ROOT)) + (has(LAST) ? "+last" : "");
  }
}
