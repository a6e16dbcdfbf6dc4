package io.hivemesh.edge;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The edge's end of one stream the node opened: feeds the local Ollama's answer into frames,
 * sending only as much as the node granted and pausing the Ollama response meanwhile. Confined
 * to the edge's event loop.
 */
final class EdgeAnswer implements BodySink {

  private final EdgeAgent.Connection link;
  private final long sid;
  private final Cancellation cancellation = new Cancellation();
  private RelayResponse response;
  private int credit;
  private boolean paused;
  private boolean headSent;
  private boolean done;

  EdgeAnswer(EdgeAgent.Connection link, long sid, int credit) {
    this.link = link;
    this.sid = sid;
    this.credit = credit;
  }

  Cancellation cancellation() {
    return cancellation;
  }

  void onResponse(AsyncResult<RelayResponse> ar) {
    if (done) {
      if (ar.succeeded()) {
        ar.result().cancel();
      }
      return;
    }
    if (ar.failed()) {
      RelayException re = ar.cause() instanceof RelayException r ? r : new RelayException(502, ar.cause().getMessage(), true);
      finish();
      link.send(EdgeProtocol.frame(EdgeProtocol.ERROR, sid, new JsonObject().put("status", re.status())
          .put("retryable", re.retryable()).put("message", String.valueOf(re.getMessage()))));
      return;
    }
    response = ar.result();
    response.start(this);
    if (credit <= 0 && !done) {
      paused = true;
      response.pause();
    }
  }

  @Override
  public void write(Buffer chunk) {
    if (done) {
      return;
    }
    sendHead();
    for (int from = 0; from < chunk.length(); from += EdgeProtocol.MAX_DATA) {
      link.send(EdgeProtocol.frame(EdgeProtocol.DATA, sid,
          chunk.getBuffer(from, Math.min(chunk.length(), from + EdgeProtocol.MAX_DATA))));
      credit--;
    }
    if (credit <= 0 && !paused) {
      paused = true;
      response.pause();
    }
  }

  /** The head travels right before the first chunk, as on the bus: until then the node may still fail over. */
  private void sendHead() {
    if (!headSent) {
      headSent = true;
      link.send(EdgeProtocol.frame(EdgeProtocol.HEAD, sid, new JsonObject().put("status", response.status())
          .put("headers", EdgeProtocol.headersJson(response.headers()))));
    }
  }

  @Override
  public void end() {
    if (!done) {
      sendHead();
      finish();
      link.send(EdgeProtocol.frame(EdgeProtocol.END, sid, (Buffer) null));
    }
  }

  @Override
  public void fail(String message) {
    if (!done) {
      finish();
      link.send(EdgeProtocol.frame(EdgeProtocol.ERROR, sid, new JsonObject().put("status", 502)
          .put("retryable", !headSent).put("message", message)));
    }
  }

  void onCredit(int n) {
    credit += n;
    if (paused && credit > 0 && !done) {
      paused = false;
      response.resume();
    }
  }

  /** The node cancelled (its client went away) or the link broke: close the Ollama request. */
  void cancel() {
    if (!done) {
      finish();
      cancellation.cancel();
      if (response != null) {
        response.cancel();
      }
    }
  }

  private void finish() {
    done = true;
    link.forget(sid);
  }
}
