package io.hivemesh.api;

import io.hivemesh.NodeConfig;
import io.hivemesh.relay.LoopSweep;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * Reads a request body into memory under three bounds: its size ({@code --body-limit}, 413), the
 * time it may take once the headers are in ({@code --body-timeout}, 408), and the bytes all bodies
 * on the node hold at once ({@code --max-body-buffer}, 503). A refusal ends with the connection
 * closed, as the connection is mid-body. The body is {@link Exchange#body} for the
 * steps after it; its bytes count against the node until the response ends.
 */
final class BodyReader implements Pipeline.Step {

  private static final String SWEEP = "hive.body-deadlines";

  private final Vertx vertx;
  private final NodeConfig config;
  private final ClientLimits limits;

  BodyReader(Vertx vertx, NodeConfig config, ClientLimits limits) {
    this.vertx = vertx;
    this.config = config;
    this.limits = limits;
  }

  @Override
  public void run(Exchange x, Runnable next) {
    HttpServerRequest req = x.request;
    long declared = declaredLength(req);
    if (declared > config.bodyLimit()) {
      refuse(x, 413, tooLarge(), true);
      return;
    }
    if (req.isEnded()) {
      x.fail(new VertxException("the request body was consumed before it could be read", true));
      return;
    }
    String expect = req.getHeader(HttpHeaders.EXPECT);
    if (expect != null) {
      if (!"100-continue".equalsIgnoreCase(expect.trim())) {
        // As Go's server (and so Ollama) answers any other expectation.
        refuse(x, 417, "unsupported Expect header: only 100-continue is understood", true);
        return;
      }
      x.response.writeContinue();
    }
    Reading reading = new Reading(x, next);
    x.atEnd(reading::release);
    req.handler(reading::chunk);
    req.endHandler(v -> reading.end());
    req.resume();
  }

  private String tooLarge() {
    return "request body too large (limit " + config.bodyLimit() + " bytes)";
  }

  private static long declaredLength(HttpServerRequest req) {
    String v = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Answers and closes: the connection is mid-body, so it cannot carry another request. Unless the
   * client has stalled ({@code linger} false), the rest of its body is read and dropped first, within
   * {@code --body-timeout}: closing on unread bytes makes the kernel reset the connection, and a
   * client still sending would lose the answer with it.
   */
  private void refuse(Exchange x, int status, String message, boolean linger) {
    HttpServerRequest req = x.request;
    HttpServerResponse out = x.response;
    if (out.ended() || out.closed()) {
      return;
    }
    HttpConnection conn = req.connection();
    out.putHeader("Connection", "close");
    Future<Void> written = OllamaErrors.send(out, status, message, x.openAi);
    if (!linger || req.isEnded()) {
      written.onComplete(v -> conn.close());
      return;
    }
    Promise<Void> drained = Promise.promise();
    long timer = vertx.setTimer(config.bodyTimeout().toMillis(), id -> conn.close());
    req.handler(dropped -> { });
    req.endHandler(v -> drained.tryComplete());
    req.resume();
    Future.all(written, drained.future()).onComplete(v -> {
      vertx.cancelTimer(timer);
      conn.close();
    });
  }

  /** One body being received, under its deadline until it is in. Runs on the request's event loop. */
  private final class Reading extends LoopSweep.Entry {
    final Exchange x;
    final Runnable next;
    final Buffer body = Buffer.buffer();
    final long deadline = System.nanoTime() + config.bodyTimeout().toNanos();
    long held;
    boolean done;

    Reading(Exchange x, Runnable next) {
      this.x = x;
      this.next = next;
      LoopSweep.current(vertx, SWEEP, config.bodyTimeout().toMillis() / 10).enter(this);
    }

    @Override
    protected void check(long now) {
      if (now - deadline >= 0) {
        fail(408, "request body not received within " + config.bodyTimeout().toMillis() + " ms", false);
      }
    }

    void chunk(Buffer chunk) {
      if (done) {
        return;
      }
      if (body.length() + (long) chunk.length() > config.bodyLimit()) {
        fail(413, tooLarge(), true);
        return;
      }
      if (limits.bodyBytes.addAndGet(chunk.length()) > config.maxBodyBuffer()) {
        limits.bodyBytes.addAndGet(-chunk.length());
        fail(503, OllamaErrors.BUSY, true);
        return;
      }
      held += chunk.length();
      body.appendBuffer(chunk);
    }

    void end() {
      if (done) {
        return;
      }
      done = true;
      leave();
      x.body = body;
      next.run();
    }

    void fail(int status, String message, boolean linger) {
      if (done) {
        return;
      }
      done = true;
      leave();
      refuse(x, status, message, linger);
    }

    void release() {
      leave();
      done = true;
      limits.bodyBytes.addAndGet(-held);
      held = 0;
    }
  }
}
