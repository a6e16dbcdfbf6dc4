package io.hivemesh.sim;

import io.vertx.core.http.HttpServerRequest;

/**
 * A slot-holding request answered with one JSON object after a delay: the embedding endpoints,
 * which Ollama serves through the same scheduler as generation.
 */
final class DelayedReply extends InferenceCall {

  /** Renders the reply once the work is done; may throw {@link ApiException}. */
  interface Body {
    JsonOut render(long loadNanos, long totalNanos);
  }

  private final long workNanos;
  private final String contentType;
  private final Body body;

  DelayedReply(SimCore core, HttpServerRequest req, ErrorStyle errors, long workNanos, String contentType, Body body) {
    super(core, req, errors);
    this.workNanos = workNanos;
    this.contentType = contentType;
    this.body = body;
  }

  @Override
  protected void granted(long loadNanos) {
    after(workNanos / 1_000_000L, () -> {
      JsonOut out = body.render(loadNanos, System.nanoTime() - startNanos);
      complete();
      SimResponses.send(req, 200, contentType, out.toBuffer());
    });
  }
}
