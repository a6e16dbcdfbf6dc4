package io.hivemesh.observe;

import io.vertx.core.buffer.Buffer;

/**
 * One client request as the metrics and the access log see it: when it came, which model and site,
 * when its first byte left, and the tail of its answer for the token counts. Lives on the
 * request's event loop only.
 */
public final class RequestTrace {

  final String id;
  final String endpoint;
  final long startNanos = System.nanoTime();
  String modelKey;
  String model = MeshMetrics.NONE;
  String site;
  long firstByteNanos = -1;
  long bytesOut;
  final AnswerUsage usage = new AnswerUsage();

  RequestTrace(String id, String endpoint) {
    this.id = id;
    this.endpoint = endpoint;
  }

  public String id() {
    return id;
  }

  /** The site that answered. */
  public void site(String site) {
    this.site = site;
  }

  /** A chunk of the answer is on its way to the client. */
  public void chunk(Buffer chunk) {
    if (firstByteNanos < 0) {
      firstByteNanos = System.nanoTime();
    }
    bytesOut += chunk.length();
    usage.add(chunk);
  }
}
