package io.hivemesh.mesh;

import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.relay.WindowedResponse;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

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
  /** Whether a frame of the site's came: its ack, its refusal, or its answer. */
  private boolean openAnswered;
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
   * Sends the open. The site answers with frames to this node's inbox only: an ack, its refusal, or
   * the answer itself. Nothing waits on the bus for a reply: the inbox runs the ack timeout, and a
   * site with no inbox registered (gone, or of another release) fails the send at once.
   */
  Future<RelayResponse> open(RelayRequest req, String modelKey) {
    BusFrame open = frame(BusFrame.Kind.OPEN).value(BusProtocol.WINDOW).payload(req.body());
    open.method = req.method().name();
    open.uri = req.uri();
    open.model = modelKey;
    open.headers = req.headers();
    inbox.awaitAck(this);
    inbox.deliver(target, open).onFailure(this::openFailed);
    return head();
  }

  /** Whether the ack timeout still runs for this stream: no frame of the site's has come. */
  boolean awaitingAck() {
    return !openAnswered && !finished() && !headReceived();
  }

  /**
   * The ack is late, but the site may be serving all the same: another site may take the request
   * only once this one says it stopped before its first frame, or stays silent to this question too
   * for {@value #ABANDON_WAIT}× the ack timeout. A site that is gone rather than slow ends the wait
   * sooner: the membership change breaks its streams. A site that has started sends no answer: its
   * head is on the way.
   */
  void ackTimedOut() {
    inbox.send(target, frame(BusFrame.Kind.ABANDON));
    inbox.awaitAbandon(this);
  }

  void abandonTimedOut() {
    abort(new RelayException(504, "site '" + site + "' did not acknowledge the request in time", true));
  }

  private void openFailed(Throwable err) {
    if (openAnswered || finished() || headReceived()) {
      return;
    }
    if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      abort(new RelayException(502, "site '" + site + "' is not reachable", true));
    } else {
      abort(new RelayException(502, "site '" + site + "': " + err.getMessage(), true));
    }
  }

  // ---- frames from the serving site ----

  /** A frame of this stream, through the inbox. Any frame of the site's answers the open. */
  void onFrame(BusFrame f) {
    lastActivity = System.nanoTime();
    openAnswered = true;
    if (f.kind == null) {
      return; // a kind from a newer peer: ignored
    }
    switch (f.kind) {
      case ACK -> {
        // The site holds the request: its head comes when its Ollama answers.
      }
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
