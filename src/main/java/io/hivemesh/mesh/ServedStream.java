package io.hivemesh.mesh;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;

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
  /** The open, its reply held back: the whole answer may still fit in it. */
  private Message<Buffer> unanswered;

  ServedStream(Inbox inbox, String key, String origin, long sid, int credit, Cancellation cancellation) {
    this.cancellation = cancellation;
    this.inbox = inbox;
    this.key = key;
    this.origin = origin;
    this.sid = sid;
    this.credit = credit;
  }

  /** Replies to {@code open} with this stream's only frame if there is one within the inbox's ack hold, else with an ack. */
  void holdAck(Message<Buffer> open) {
    unanswered = open;
    inbox.holdAck(this);
  }

  boolean ackHeld() {
    return unanswered != null;
  }

  /** Answers the open with a plain ack, if it is still unanswered. */
  void ack() {
    Message<Buffer> open = takeUnanswered();
    if (open != null) {
      open.reply(null);
    }
  }

  /** The open if its reply is still held back, no longer held after this call; else null. */
  private Message<Buffer> takeUnanswered() {
    Message<Buffer> open = unanswered;
    unanswered = null;
    return open;
  }

  /**
   * Every frame to the origin leaves here. The stream's last frame, when nothing went before it and
   * the open is still unanswered, is the reply: one bus message for the ack and the whole answer.
   */
  private void send(BusFrame frame) {
    Message<Buffer> open = done ? takeUnanswered() : null;
    if (open != null) {
      open.reply(frame.encode());
      return;
    }
    ack();
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
      finish();
      // An origin still waiting for the reply to its open learns of it at once.
      ack();
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
