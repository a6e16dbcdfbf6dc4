package io.hivemesh.mesh;

/**
 * The stream protocol of a relayed request over the event bus. Every node runs one inbox per event
 * loop, at a stable address; a stream is a stream id plus sequence-numbered frames ({@link BusFrame},
 * a binary layout in the message body), each a one-way message from one inbox to the other. So the
 * bus registers no consumer and sets no timer per request: no request/reply, whose reply handler is
 * both.
 *
 * <pre>
 * origin                                      serving site
 *   open  (payload = request body)      ---->  the origin's ack timeout runs in its inbox
 *         <---- ack, or err 503 (full, draining; retryable); the ack waits up to 20 ms, and is
 *               left out when a frame goes by then: a short answer is one head flagged last
 *         <---- head (status, headers; seq 0 and the first chunk as payload)
 *         <---- data (seq 1..n, payload = bytes)   only while credit lasts
 *   credit (n) ---->
 *         <---- "last" on the final head or data frame, or an end frame (seq) when that frame
 *               was already out; err (message, status before the head)
 *   cancel ---->                                 closes the site's Ollama request
 *   abandon ---->                                after an ack timeout: err 504 (retryable) when the
 *                                                site had not started (its request is closed);
 *                                                nothing when it had: its head is on the way
 * </pre>
 *
 * An ack that comes late does not prove the site idle: it may be serving. So an origin whose ack
 * timed out asks the site to abandon the stream, and tries another site only once the site says it
 * stopped before its first frame, or stays silent for {@link RemoteStream#ABANDON_WAIT} more ack
 * timeouts. A request is then served in full at most once, whatever the timing. An open to an
 * address with no inbox (a site gone, or of a release with other frames) fails when it is sent.
 */
final class BusProtocol {

  /** Chunks the origin lets a site send ahead; it grants more as the client takes them. */
  static final int WINDOW = 64;

  /** Failure code of an open refused because the site is full. */
  static final int BUSY = 503;

  private BusProtocol() {
  }
}
