package io.hivemesh.edge;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The frames an edge and the node it is attached to exchange over their one WebSocket. Every
 * frame is one binary message: a kind byte, a stream id (8 bytes, 0 for the link itself), then
 * the payload. The node opens streams and grants credit; the edge answers only the streams the
 * node opened.
 *
 * <pre>
 * edge                                          node
 *   site    (json: health, limits, tags, ps) ---->   on connect and on every change
 *   ping    ---->  <---- pong                        every {@value #HEARTBEAT_MS} ms
 *         <---- open   (json: method, uri, model, headers, credit; then the request body)
 *   head    (json: status, headers) ---->            with the first chunk, as on the bus
 *   data    (bytes) ---->                            only while credit lasts
 *         <---- credit (int n)                       as the client takes chunks
 *   end | err (json: status, retryable, message) ---->
 *         <---- cancel                               the client went away
 * </pre>
 */
public final class EdgeProtocol {

  /** Where a node takes edge connections, on its client port. */
  public static final String PATH = "/hive/edge";

  public static final byte SITE = 1;
  public static final byte PING = 2;
  public static final byte PONG = 3;
  public static final byte OPEN = 10;
  public static final byte CREDIT = 11;
  public static final byte CANCEL = 12;
  public static final byte HEAD = 20;
  public static final byte DATA = 21;
  public static final byte END = 22;
  public static final byte ERROR = 23;

  /** Frames the node lets an edge send ahead per stream; it grants more as the client takes them. */
  public static final int WINDOW = 64;
  /** Largest data payload per frame: a node takes WebSocket messages up to 256 KiB. */
  public static final int MAX_DATA = 32 * 1024;
  /** How often the edge pings; either side drops a link silent for {@value #SILENCE_MS} ms. */
  public static final long HEARTBEAT_MS = 500;
  public static final long SILENCE_MS = 2000;

  private static final int HEADER = 9;

  private EdgeProtocol() {
  }

  public static Buffer frame(byte kind, long sid, Buffer payload) {
    Buffer b = Buffer.buffer(HEADER + (payload == null ? 0 : payload.length())).appendByte(kind).appendLong(sid);
    return payload == null ? b : b.appendBuffer(payload);
  }

  public static Buffer frame(byte kind, long sid, JsonObject payload) {
    return frame(kind, sid, payload.toBuffer());
  }

  public static Buffer credit(long sid, int n) {
    return frame(CREDIT, sid, Buffer.buffer(4).appendInt(n));
  }

  /** An open frame: the request line and headers as JSON, then the body bytes untouched. */
  public static Buffer open(long sid, JsonObject request, Buffer body) {
    Buffer json = request.toBuffer();
    return Buffer.buffer(HEADER + 4 + json.length() + body.length()).appendByte(OPEN).appendLong(sid)
        .appendInt(json.length()).appendBuffer(json).appendBuffer(body);
  }

  /** A malformed frame: the peer is not speaking this protocol, and the link is closed. */
  public static final class BadFrame extends RuntimeException {
    BadFrame(String message) {
      super(message, null, false, false);
    }
  }

  public static byte kind(Buffer frame) {
    if (frame.length() < HEADER) {
      throw new BadFrame("a frame of " + frame.length() + " bytes");
    }
    return frame.getByte(0);
  }

  public static long sid(Buffer frame) {
    return frame.getLong(1);
  }

  public static Buffer payload(Buffer frame) {
    return frame.getBuffer(HEADER, frame.length());
  }

  public static JsonObject json(Buffer frame) {
    try {
      return new JsonObject(payload(frame));
    } catch (RuntimeException e) {
      throw new BadFrame("a frame whose payload is not a JSON object");
    }
  }

  public static int creditOf(Buffer frame) {
    if (frame.length() != HEADER + 4) {
      throw new BadFrame("a credit frame of " + frame.length() + " bytes");
    }
    return frame.getInt(HEADER);
  }

  /** The request of an open frame, and its body. */
  public record Open(JsonObject request, Buffer body) {
  }

  public static Open openOf(Buffer frame) {
    if (frame.length() < HEADER + 4) {
      throw new BadFrame("an open frame of " + frame.length() + " bytes");
    }
    int jsonLength = frame.getInt(HEADER);
    if (jsonLength < 0 || HEADER + 4 + jsonLength > frame.length()) {
      throw new BadFrame("an open frame with a request of " + jsonLength + " bytes");
    }
    return new Open(new JsonObject(frame.getBuffer(HEADER + 4, HEADER + 4 + jsonLength)),
        frame.getBuffer(HEADER + 4 + jsonLength, frame.length()));
  }

  public static JsonObject headersJson(MultiMap headers) {
    JsonObject out = new JsonObject();
    headers.forEach((k, v) -> out.put(k, v));
    return out;
  }

  public static MultiMap headersOf(JsonObject json) {
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    if (json != null) {
      json.forEach(e -> out.add(e.getKey(), String.valueOf(e.getValue())));
    }
    return out;
  }
}
