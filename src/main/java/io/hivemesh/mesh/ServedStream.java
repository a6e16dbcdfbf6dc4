package io.hivemesh.mesh;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * The serving site's end of a request relayed from another node: feeds the local Ollama's answer
 * into bus frames, sending only as much as the origin granted. Confined to its inbox's event loop.
 */
final class ServedStream implements BodySink {

  private final Inbox inbox;
  private final String key;
  private final String origin;
  private final long sid;
  private RelayResponse response;
  private int credit;
  private long seq;
  private boolean paused;
  private boolean done;
  long lastActivity = System.nanoTime();

  private final Cancellation cancellation;

  ServedStream(Inbox inbox, String key, String origin, long sid, int credit, Cancellation cancellation) {
    this.cancellation = cancellation;
    this.inbox = inbox;
    this.key = key;
    this.origin = origin;
    this.sid = sid;
    this.credit = credit;
  }

  boolean starved() {
    return paused;
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
      DeliveryOptions opts = frame(BusProtocol.ERROR);
      opts.getHeaders().add(BusProtocol.STATUS, Integer.toString(re.status()))
          .add(BusProtocol.RETRYABLE, re.retryable() ? "1" : "0");
      finish();
      inbox.send(origin, opts, Buffer.buffer(String.valueOf(re.getMessage())));
      return;
    }
    response = ar.result();
    DeliveryOptions head = frame(BusProtocol.HEAD);
    head.getHeaders().add(BusProtocol.STATUS, Integer.toString(response.status()))
        .add(BusProtocol.SITE, response.site());
    BusProtocol.putHeaders(head.getHeaders(), response.headers());
    inbox.send(origin, head, null);
    response.start(this);
    if (credit <= 0 && !done) {
      paused = true;
      response.pause();
    }
  }

  private DeliveryOptions frame(String kind) {
    return BusProtocol.frame(kind, sid, inbox.address());
  }

  @Override
  public void write(Buffer chunk) {
    if (done) {
      return;
    }
    DeliveryOptions opts = frame(BusProtocol.DATA);
    opts.getHeaders().add(BusProtocol.SEQ, Long.toString(seq++));
    inbox.send(origin, opts, chunk);
    if (--credit <= 0 && !paused) {
      paused = true;
      lastActivity = System.nanoTime();
      response.pause();
    }
  }

  @Override
  public void end() {
    if (!done) {
      DeliveryOptions opts = frame(BusProtocol.END);
      opts.getHeaders().add(BusProtocol.SEQ, Long.toString(seq++));
      finish();
      inbox.send(origin, opts, null);
    }
  }

  @Override
  public void fail(String message) {
    if (!done) {
      finish();
      inbox.send(origin, frame(BusProtocol.ERROR), Buffer.buffer(message));
    }
  }

  void onCredit(int n) {
    lastActivity = System.nanoTime();
    credit += n;
    if (paused && credit > 0 && !done) {
      paused = false;
      response.resume();
    }
  }

  /** The origin cancelled, or stopped granting credit for too long: close the Ollama request. */
  void cancel() {
    if (!done) {
      finish();
      // Before the head this stops the Ollama request mid-load; after it, the relayed answer.
      cancellation.cancel();
      if (response != null) {
        response.cancel();
      }
    }
  }

  private void finish() {
    done = true;
    inbox.forgetServed(key);
  }
}
