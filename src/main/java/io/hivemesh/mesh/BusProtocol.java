package io.hivemesh.mesh;

/**
 * The stream protocol of a relayed request over the event bus. Every node runs one inbox per event
 * loop, at a stable address; a stream is a stream id plus sequence-numbered frames ({@link BusFrame},
 * a binary layout in the message body), so no consumer is registered in the cluster per request. (The
 * open is the bus's request: Vert.x keeps a local reply handler for it, at a random UUID address and
 * with its send timeout, until the site's reply; no cluster write. docs/benchmarks.md weighs it.)
 *
 * <pre>
 * origin                                      serving site
 *   open  (request; payload = request body) ->  ack reply (no body), or failure 503 when full; the
 *                                                ack waits up to 20 ms, and an answer whole by then
 *                                                is the reply (its head, flagged last)
 *         <---- head (status, headers; seq 0 and the first chunk as payload)
 *         <---- data (seq 1..n, payload = bytes)   only while credit lasts
 *   credit (n) ---->
 *         <---- "last" on the final head or data frame, or an end frame (seq) when that frame
 *               was already out; err (message, status before the head)
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

  /** Chunks the origin lets a site send ahead; it grants more as the client takes them. */
  static final int WINDOW = 64;

  /** Failure code of an open refused because the site is full. */
  static final int BUSY = 503;

  /** Answers to an abandon. */
  static final String STOPPED = "stopped";
  static final String STARTED = "started";

  private BusProtocol() {
  }
}
