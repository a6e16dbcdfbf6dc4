package io.hivemesh.mesh;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * The wire format of a relayed request over the event bus. Every node runs one inbox per event
 * loop, at a stable address; a stream is a stream id plus sequence-numbered frames whose kind
 * travels in a header, so no consumer is ever registered per request.
 *
 * <pre>
 * origin                                      serving site
 *   open  (request; body = request body) ---->  ack reply, or failure 503 when full; if the open
 *                                                said "ar", the ack waits up to 20 ms, and an answer
 *                                                whole by then is the reply (its head, "last")
 *         <---- head (status, headers; seq 0 and the first chunk as body)
 *         <---- data (seq 1..n, body = bytes)   only while credit lasts
 *   credit (n) ---->
 *         <---- end (seq) | err (message, status before the head)
 *               or, if the open said "fold", no end frame: "last" on the final head or data frame
 *   cancel ---->                                 closes the site's Ollama request
 *   abandon (request) ---->                      after an ack timeout: "stopped" (nothing was sent,
 *                                                the site's request is closed) or "started"
 * </pre>
 *
 * An ack that comes late does not prove the site idle: it may be serving. So an origin whose ack
 * timed out asks the site to abandon the stream, and tries another site only once the site says it
 * stopped before its first frame, or does not answer that either. A request is then served in full
 * at most once, whatever the timing.
 */
final class BusProtocol {

  static final String KIND = "k";
  static final String STREAM = "sid";
  static final String SEQ = "seq";
  static final String FROM = "from";
  static final String STATUS = "st";
  static final String RETRYABLE = "r";
  static final String CREDIT = "n";
  static final String METHOD = "m";
  static final String URI = "u";
  static final String MODEL = "mk";
  static final String SITE = "site";
  /**
   * On an open: the origin understands {@link #LAST}. On a head or data frame: the stream ends after
   * this frame's chunk, as an end frame with the next sequence number would say. A short answer then
   * crosses the bus as one frame instead of two; an origin that did not ask gets end frames.
   */
  static final String FOLD = "fold";
  static final String LAST = "last";
  /**
   * On an open: the origin reads a frame in the reply to its open, and keeps waiting for that reply
   * past its ack timeout. The site then holds its ack a moment: an answer it has whole by then
   * travels as the reply, and the ack costs no message of its own.
   */
  static final String ANSWER_IN_REPLY = "ar";
  /** Prefix of relayed HTTP headers. */
  static final String HEADER = "h-";

  static final String OPEN = "open";
  static final String HEAD = "head";
  static final String DATA = "data";
  static final String END = "end";
  static final String ERROR = "err";
  static final String GRANT = "credit";
  static final String CANCEL = "cancel";
  /** Asked after an ack timeout; answered {@link #STOPPED} or {@link #STARTED}. */
  static final String ABANDON = "abandon";
  static final String STOPPED = "stopped";
  static final String STARTED = "started";
  /** Answered at once: opens the bus connection (and its TLS session) before a request needs it. */
  static final String PING = "ping";

  /** Chunks the origin lets a site send ahead; it grants more as the client takes them. */
  static final int WINDOW = 64;

  /** Failure code of an open refused because the site is full. */
  static final int BUSY = 503;

  private BusProtocol() {
  }

  static DeliveryOptions frame(String kind, long sid, String from) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    h.add(KIND, kind).add(STREAM, Long.toString(sid)).add(FROM, from);
    return new DeliveryOptions().setHeaders(h);
  }

  static void putHeaders(MultiMap frameHeaders, MultiMap httpHeaders) {
    httpHeaders.forEach((k, v) -> frameHeaders.add(HEADER + k, v));
  }

  static MultiMap httpHeaders(MultiMap frameHeaders) {
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    frameHeaders.forEach((k, v) -> {
      if (k.startsWith(HEADER)) {
        out.add(k.substring(HEADER.length()), v);
      }
    });
    return out;
  }
}
