package io.hivemesh.mesh;

import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.relay.WindowedResponse;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;

/**
 * The origin's end of a request served by a peer: it opens the stream and turns the peer's bus
 * frames into the calls of {@link WindowedResponse}, which hands the answer to the client under the
 * credit window. Confined to the event loop of the inbox that owns it.
 */
final class RemoteStream extends WindowedResponse {

  /** How many ack timeouts an origin waits for a site's answer to "abandon". */
  static final int ABANDON_WAIT = 4;

  private final Inbox inbox;
  private final long sid;
  private final String site;
  private final String target;
  private final Runnable onFinish;

  private int nextSeq;
  /** Whether the open was answered (its ack, a frame, or a failure). */
  private boolean openAnswered;
  private long ackTimeoutMs;
  private boolean abandoning;
  final long openedAt;
  long lastActivity;

  RemoteStream(Inbox inbox, long sid, String site, String target, Runnable ended) {
    super(BusProtocol.WINDOW);
    this.onFinish = ended;
    this.inbox = inbox;
    this.sid = sid;
    this.site = site;
    this.target = target;
    this.openedAt = System.nanoTime();
    this.lastActivity = openedAt;
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
      } else if (!finished() && BusFrame.isFrame(ar.result().body())) {
        onFrame(ar.result().body());
      }
    });
    return head();
  }

  /** Whether the ack timeout still runs for this stream: its open unanswered, no frame received. */
  boolean awaitingAck() {
    return !openAnswered && !finished() && !headReceived();
  }

  void ackTimedOut() {
    abandon(ackTimeoutMs);
  }

  private void openFailed(Throwable err, long ackTimeoutMs) {
    if (finished() || headReceived()) {
      return;
    }
    if (err instanceof ReplyException re) {
      switch (re.failureType()) {
        case RECIPIENT_FAILURE -> abort(new RelayException(re.failureCode(), re.getMessage(), true));
        case NO_HANDLERS -> abort(new RelayException(502, "site '" + site + "' is not reachable", true));
        // The reply timeout: the ack timeout ran out long before, and the abandon decides.
        default -> {
          if (!abandoning) {
            abandon(ackTimeoutMs);
          }
        }
      }
    } else {
      abort(new RelayException(502, "site '" + site + "': " + err.getMessage(), true));
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
      if (finished() || headReceived()) {
        return;
      }
      if (ar.succeeded() && BusProtocol.STARTED.equals(String.valueOf(ar.result().body()))) {
        return; // its head is on the way; the sweep ends the stream if it never comes
      }
      abort(new RelayException(504, "site '" + site + "' did not acknowledge the request in time", true));
    });
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
        boolean chunk = f.has(BusFrame.CHUNK);
        if (!chunk || inSequence(f)) {
          onHead(f.value, f.headers, chunk ? f.payload : null, f.has(BusFrame.LAST));
        }
      }
      case DATA -> {
        if (inSequence(f)) {
          onData(f.payload);
          if (f.has(BusFrame.LAST)) {
            onEnd();
          }
        }
      }
      case END -> {
        if (inSequence(f)) {
          onEnd();
        }
      }
      case ERROR -> onError(f.value == 0 ? 502 : f.value, f.payload.length() == 0 ? "error" : f.payload.toString(),
          f.has(BusFrame.RETRYABLE));
      default -> {
        // Kinds an origin never receives.
      }
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

  private BusFrame frame(BusFrame.Kind kind) {
    return new BusFrame(kind, sid, inbox.address());
  }

  // ---- the window's messages to the site ----

  @Override
  protected void sendGrant(int chunks) {
    inbox.send(target, frame(BusFrame.Kind.GRANT).value(chunks));
  }

  @Override
  protected void sendCancel() {
    inbox.send(target, frame(BusFrame.Kind.CANCEL));
  }

  @Override
  protected void released() {
    inbox.forget(sid);
    onFinish.run();
  }

  @Override
  protected String sender() {
    return "site '" + site + "'";
  }

  @Override
  public String site() {
    return site;
  }
}
