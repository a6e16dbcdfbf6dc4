package io.hivemesh.mesh;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
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
  private long seq;
  private boolean paused;
  private boolean headSent;
  private boolean done;
  long lastActivity = System.nanoTime();

  private final Cancellation cancellation;
  /** Whether the origin reads {@link BusProtocol#LAST}, so the end can travel on the last frame. */
  private final boolean foldEnd;
  /**
   * The latest frame, held until the loop finishes what it is doing: Ollama's last chunk and the
   * end of its answer arrive in one read, and then travel as one frame.
   */
  private DeliveryOptions heldFrame;
  private Buffer heldChunk;
  private boolean flushQueued;
  /** The open, its reply held back ({@link BusProtocol#ANSWER_IN_REPLY}): the whole answer may still fit in it. */
  private Message<Buffer> unanswered;
  private long ackTimer = -1;

  ServedStream(Inbox inbox, String key, String origin, long sid, int credit, Cancellation cancellation,
               boolean foldEnd) {
    this.cancellation = cancellation;
    this.foldEnd = foldEnd;
    this.inbox = inbox;
    this.key = key;
    this.origin = origin;
    this.sid = sid;
    this.credit = credit;
  }

  /** Replies to {@code open} with this stream's only frame if there is one within {@code holdMs}, else with an ack. */
  void holdAck(Message<Buffer> open, long holdMs) {
    unanswered = open;
    ackTimer = inbox.vertx().setTimer(holdMs, id -> {
      ackTimer = -1;
      ack();
    });
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
    if (ackTimer >= 0) {
      inbox.vertx().cancelTimer(ackTimer);
      ackTimer = -1;
    }
    return open;
  }

  /**
   * Every frame to the origin leaves here. The stream's last frame, when nothing went before it and
   * the open is still unanswered, is the reply: one bus message for the ack and the whole answer.
   */
  private void send(DeliveryOptions frame, Buffer body) {
    Message<Buffer> open = done ? takeUnanswered() : null;
    if (open != null) {
      open.reply(body, frame);
      return;
    }
    ack();
    inbox.send(origin, frame, body);
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
      DeliveryOptions opts = frame(BusProtocol.ERROR);
      opts.getHeaders().add(BusProtocol.STATUS, Integer.toString(re.status()))
          .add(BusProtocol.RETRYABLE, re.retryable() ? "1" : "0");
      finish();
      send(opts, Buffer.buffer(String.valueOf(re.getMessage())));
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

  private DeliveryOptions frame(String kind) {
    return BusProtocol.frame(kind, sid, inbox.address());
  }

  @Override
  public void write(Buffer chunk) {
    if (done) {
      return;
    }
    DeliveryOptions opts = headSent ? frame(BusProtocol.DATA) : head();
    opts.getHeaders().add(BusProtocol.SEQ, Long.toString(seq++));
    if (foldEnd) {
      sendHeld();
      heldFrame = opts;
      heldChunk = chunk;
      if (!flushQueued) {
        flushQueued = true;
        inbox.later(this::flush);
      }
    } else {
      send(opts, chunk);
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
      DeliveryOptions opts = heldFrame;
      Buffer chunk = heldChunk;
      heldFrame = null;
      heldChunk = null;
      send(opts, chunk);
    }
  }

  @Override
  public void end() {
    if (!done && heldFrame != null) {
      heldFrame.getHeaders().add(BusProtocol.LAST, "1");
      finish();
      sendHeld();
    } else if (!done) {
      if (!headSent) {
        send(head(), null);
      }
      DeliveryOptions opts = frame(BusProtocol.END);
      opts.getHeaders().add(BusProtocol.SEQ, Long.toString(seq++));
      finish();
      send(opts, null);
    }
  }

  @Override
  public void fail(String message) {
    if (!done) {
      sendHeld();
      finish();
      DeliveryOptions opts = frame(BusProtocol.ERROR);
      if (!headSent) {
        // Nothing reached the origin yet: it may still try another site.
        opts.getHeaders().add(BusProtocol.STATUS, "502").add(BusProtocol.RETRYABLE, "1");
      }
      send(opts, Buffer.buffer(message));
    }
  }

  /** The head frame: status and headers of the site's answer, carrying the first chunk if there is one. */
  private DeliveryOptions head() {
    headSent = true;
    DeliveryOptions head = frame(BusProtocol.HEAD);
    head.getHeaders().add(BusProtocol.STATUS, Integer.toString(response.status()))
        .add(BusProtocol.SITE, response.site());
    BusProtocol.putHeaders(head.getHeaders(), response.headers());
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
      heldChunk = null;
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
