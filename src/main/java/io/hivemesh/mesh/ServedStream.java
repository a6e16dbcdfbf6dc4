package io.hivemesh.mesh;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;

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
  private int seq;
  private boolean paused;
  private boolean headSent;
  private boolean done;
  long lastActivity = System.nanoTime();

  private final Cancellation cancellation;
  /**
   * The latest frame, held until the loop finishes what it is doing: Ollama's last chunk and the
   * end of its answer arrive in one read, and then travel as one frame.
   */
  private BusFrame heldFrame;
  private boolean flushQueued;
  /** Whether the open still waits for its ack, held back: the answer's first frame may come soon and be it. */
  private boolean ackHeld;

  ServedStream(Inbox inbox, String key, String origin, long sid, int credit, Cancellation cancellation) {
    this.cancellation = cancellation;
    this.inbox = inbox;
    this.key = key;
    this.origin = origin;
    this.sid = sid;
    this.credit = credit;
  }

  /**
   * Holds the ack for the inbox's ack hold: a frame sent by then acks the open, so a short answer
   * crosses the bus as one message.
   */
  void holdAck() {
    ackHeld = true;
    inbox.holdAck(this);
  }

  boolean ackHeld() {
    return ackHeld;
  }

  /** The ack hold is over and no frame went out: the origin is told its open is held. */
  void ack() {
    if (ackHeld) {
      ackHeld = false;
      inbox.send(origin, frame(BusFrame.Kind.ACK));
    }
  }

  /** Every frame to the origin leaves here; the first is the open's ack too. */
  private void send(BusFrame frame) {
    ackHeld = false;
    inbox.send(origin, frame);
  }

  boolean headSent() {
    return headSent;
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
      BusFrame err = frame(BusFrame.Kind.ERROR).value(re.status()).payload(Buffer.buffer(String.valueOf(re.getMessage())));
      if (re.retryable()) {
        err.flag(BusFrame.RETRYABLE);
      }
      finish();
      send(err);
      return;
    }
    // The head travels with the first chunk (or the end): the client sees nothing before the first
    // byte anyway, and Ollama sends no head before its first token. One bus message fewer per answer.
    response = ar.result();
    response.start(this);
    if (credit <= 0 && !done) {
      paused = true;
      response.pause();
    }
  }

  private BusFrame frame(BusFrame.Kind kind) {
    return new BusFrame(kind, sid, inbox.address());
  }

  @Override
  public void write(Buffer chunk) {
    if (done) {
      return;
    }
    BusFrame f = headSent ? frame(BusFrame.Kind.DATA) : head().flag(BusFrame.CHUNK);
    f.seq(seq++).payload(chunk);
    sendHeld();
    heldFrame = f;
    if (!flushQueued) {
      flushQueued = true;
      inbox.later(this::flush);
    }
    if (--credit <= 0 && !paused) {
      paused = true;
      lastActivity = System.nanoTime();
      response.pause();
    }
  }

  private void flush() {
    flushQueued = false;
    sendHeld();
  }

  private void sendHeld() {
    if (heldFrame != null) {
      BusFrame f = heldFrame;
      heldFrame = null;
      send(f);
    }
  }

  @Override
  public void end() {
    if (!done && heldFrame != null) {
      heldFrame.flag(BusFrame.LAST);
      finish();
      sendHeld();
    } else if (!done) {
      if (!headSent) {
        // An answer without a byte: its head is the whole of it.
        finish();
        send(head().flag(BusFrame.LAST));
        return;
      }
      BusFrame end = frame(BusFrame.Kind.END).seq(seq++);
      finish();
      send(end);
    }
  }

  @Override
  public void fail(String message) {
    if (!done) {
      sendHeld();
      finish();
      BusFrame err = frame(BusFrame.Kind.ERROR).payload(Buffer.buffer(message));
      if (!headSent) {
        // Nothing reached the origin yet: it may still try another site.
        err.value(502).flag(BusFrame.RETRYABLE);
      }
      send(err);
    }
  }

  /** The head frame: status and headers of the site's answer; the caller adds the first chunk if there is one. */
  private BusFrame head() {
    headSent = true;
    BusFrame head = frame(BusFrame.Kind.HEAD).value(response.status());
    head.site = response.site();
    head.headers = response.headers();
    return head;
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
      heldFrame = null;
      ackHeld = false;
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
    inbox.forgetServed(key, headSent);
  }
}
