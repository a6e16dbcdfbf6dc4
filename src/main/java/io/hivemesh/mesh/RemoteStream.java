package io.hivemesh.mesh;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import java.util.ArrayDeque;

/**
 * The origin's end of a request served by a peer: it opens the stream, turns the peer's frames
 * back into a {@link RelayResponse}, and grants credit only while the client keeps up. Confined to
 * the event loop of the inbox that owns it.
 */
final class RemoteStream implements RelayResponse {

  /** How many ack timeouts an origin waits for a site's answer to "abandon". */
  static final int ABANDON_WAIT = 4;

  private final Inbox inbox;
  private final long sid;
  private final String site;
  private final String target;
  private final Promise<RelayResponse> head = Promise.promise();
  private final ArrayDeque<Buffer> pending = new ArrayDeque<>();
  private final Runnable onFinish;

  private int status;
  private MultiMap headers;
  private BodySink sink;
  private boolean paused;
  private boolean ended;
  private String error;
  private boolean finished;
  private int nextSeq;
  private int consumed;
  /** Whether the open was answered (its ack, a frame, or a failure). */
  private boolean openAnswered;
  private long ackTimeoutMs;
  private boolean abandoning;
  final long openedAt;
  long lastActivity;

  RemoteStream(Inbox inbox, long sid, String site, String target, Runnable ended) {
    this.onFinish = ended;
    this.inbox = inbox;
    this.sid = sid;
    this.site = site;
    this.target = target;
    this.openedAt = System.nanoTime();
    this.lastActivity = openedAt;
  }

  boolean headReceived() {
    return headers != null;
  }

  boolean paused() {
    return paused;
  }

  /** Chunks received but not yet taken by the client: bounded by the credit window. */
  int buffered() {
    return pending.size();
  }

  /**
   * Sends the open. Its reply is the site's ack, or, for an answer the site had whole within its
   * ack hold, that answer's only frame. So the reply must not be dropped at the ack timeout, as the
   * bus drops a late reply: the ack timeout runs here, and the bus waits for the reply as long as
   * this stream may still take it. The site replies to the open before it answers an abandon (one
   * connection, in order), and without that answer the stream is given up {@value #ABANDON_WAIT}
   * ack timeouts after the first; one more ack timeout is the margin.
   */
  Future<RelayResponse> open(RelayRequest req, String modelKey, long ackTimeoutMs) {
    BusFrame open = frame(BusFrame.Kind.OPEN).value(BusProtocol.WINDOW).payload(req.body());
    open.method = req.method().name();
    open.uri = req.uri();
    open.model = modelKey;
    open.headers = req.headers();
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout((2 + ABANDON_WAIT) * ackTimeoutMs);
    this.ackTimeoutMs = ackTimeoutMs;
    inbox.awaitAck(this);
    inbox.eventBus().<Buffer>request(target, open.encode(), opts).onComplete(ar -> {
      openAnswered = true;
      if (ar.failed()) {
        openFailed(ar.cause(), ackTimeoutMs);
      } else if (!finished && BusFrame.isFrame(ar.result().body())) {
        onFrame(ar.result().body());
      }
    });
    return head.future();
  }

  /** Whether the ack timeout still runs for this stream: its open unanswered, no frame received. */
  boolean awaitingAck() {
    return !openAnswered && !finished && !headReceived();
  }

  void ackTimedOut() {
    abandon(ackTimeoutMs);
  }

  private void openFailed(Throwable err, long ackTimeoutMs) {
    if (finished || headReceived()) {
      return;
    }
    if (err instanceof ReplyException re) {
      switch (re.failureType()) {
        case RECIPIENT_FAILURE -> giveUp(new RelayException(re.failureCode(), re.getMessage(), true));
        case NO_HANDLERS -> giveUp(new RelayException(502, "site '" + site + "' is not reachable", true));
        // The reply timeout: the ack timeout ran out long before, and the abandon decides.
        default -> {
          if (!abandoning) {
            abandon(ackTimeoutMs);
          }
        }
      }
    } else {
      giveUp(new RelayException(502, "site '" + site + "': " + err.getMessage(), true));
    }
  }

  /**
   * The ack is late, but the site may be serving all the same: another site may take the request
   * only once this one says it stopped before its first frame, or stays silent to this question too
   * for {@value #ABANDON_WAIT}× the ack timeout. A site that is gone rather than slow ends the wait
   * sooner: the membership change breaks its streams.
   */
  private void abandon(long ackTimeoutMs) {
    abandoning = true;
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(ABANDON_WAIT * ackTimeoutMs);
    inbox.eventBus().<Buffer>request(target, frame(BusFrame.Kind.ABANDON).encode(), opts).onComplete(ar -> {
      if (finished || headReceived()) {
        return;
      }
      if (ar.succeeded() && BusProtocol.STARTED.equals(String.valueOf(ar.result().body()))) {
        return; // its head is on the way; the sweep ends the stream if it never comes
      }
      giveUp(new RelayException(504, "site '" + site + "' did not acknowledge the request in time", true));
    });
  }

  private void giveUp(RelayException failure) {
    // Whatever the site did with the open, it must not serve it now.
    inbox.send(target, frame(BusFrame.Kind.CANCEL));
    finish();
    head.tryFail(failure);
  }

  // ---- frames from the serving site ----

  /** A frame of this stream, as the bus brought it: a reply to the open, or through the inbox. */
  void onFrame(Buffer body) {
    BusFrame f;
    try {
      f = BusFrame.decode(body);
    } catch (IllegalArgumentException e) {
      broken("site '" + site + "' sent an unreadable frame: " + e.getMessage());
      return;
    }
    onFrame(f);
  }

  void onFrame(BusFrame f) {
    lastActivity = System.nanoTime();
    if (f.kind == null) {
      return; // a kind from a newer peer: ignored
    }
    switch (f.kind) {
      case HEAD -> {
        status = f.value;
        headers = f.headers;
        if (f.has(BusFrame.CHUNK)) {
          onData(f);
        }
        endIfLast(f);
        head.tryComplete(this);
      }
      case DATA -> {
        onData(f);
        endIfLast(f);
      }
      case END -> {
        if (inSequence(f)) {
          ended = true;
          drain();
        }
      }
      case ERROR -> {
        String message = f.payload.length() == 0 ? "error" : f.payload.toString();
        if (!headReceived()) {
          finish();
          head.tryFail(new RelayException(f.value == 0 ? 502 : f.value, message, f.has(BusFrame.RETRYABLE)));
        } else {
          error = message;
          ended = true;
          drain();
        }
      }
      default -> {
        // Kinds an origin never receives.
      }
    }
  }

  private void onData(BusFrame f) {
    if (!inSequence(f)) {
      return;
    }
    if (sink != null && !paused && pending.isEmpty()) {
      deliver(f.payload);
    } else if (pending.size() > 2 * BusProtocol.WINDOW) {
      broken("site '" + site + "' sent more than it was granted");
    } else {
      pending.add(f.payload);
    }
  }

  private void endIfLast(BusFrame f) {
    if (!finished && f.has(BusFrame.LAST)) {
      ended = true;
      drain();
    }
  }

  private boolean inSequence(BusFrame f) {
    if (f.seq != nextSeq) {
      broken("stream from site '" + site + "' lost a frame");
      return false;
    }
    nextSeq++;
    return true;
  }

  private void deliver(Buffer chunk) {
    sink.write(chunk);
    if (++consumed >= BusProtocol.WINDOW / 2 && !paused) {
      grant();
    }
  }

  private void grant() {
    if (consumed > 0 && !finished) {
      BusFrame grant = frame(BusFrame.Kind.GRANT).value(consumed);
      consumed = 0;
      inbox.send(target, grant);
    }
  }

  private void drain() {
    if (sink == null) {
      return;
    }
    while (!paused && !pending.isEmpty() && !finished) {
      deliver(pending.poll());
    }
    if (ended && pending.isEmpty() && !finished) {
      finish();
      if (error != null) {
        sink.fail(error);
      } else {
        sink.end();
      }
    } else if (!paused && consumed >= BusProtocol.WINDOW / 2) {
      // Below half a window the site still holds credit enough to keep sending: a grant for a
      // chunk or two would be a bus message per stream for nothing.
      grant();
    }
  }

  /** The peer is gone or the stream is corrupt: end it with an error, stop the peer. */
  void broken(String message) {
    if (finished) {
      return;
    }
    inbox.send(target, frame(BusFrame.Kind.CANCEL));
    finish();
    if (!headReceived()) {
      head.tryFail(new RelayException(502, message, true));
    } else if (sink != null) {
      sink.fail(message);
    } else {
      error = message;
    }
  }

  private BusFrame frame(BusFrame.Kind kind) {
    return new BusFrame(kind, sid, inbox.address());
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    pending.clear();
    inbox.forget(sid);
    onFinish.run();
  }

  // ---- RelayResponse, used by the HTTP layer on the same event loop ----

  @Override
  public int status() {
    return status;
  }

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public String site() {
    return site;
  }

  @Override
  public void start(BodySink sink) {
    this.sink = sink;
    if (finished && error != null) {
      sink.fail(error);
      return;
    }
    drain();
  }

  @Override
  public void pause() {
    paused = true;
  }

  @Override
  public void resume() {
    if (paused) {
      paused = false;
      drain();
    }
  }

  @Override
  public void cancel() {
    if (!finished) {
      inbox.send(target, frame(BusFrame.Kind.CANCEL));
      finish();
    }
  }
}
