package io.hivemesh.mesh;

import io.hivemesh.NodeConfig;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's bus endpoint, at the stable address {@code hive.v1.site.NAME.LOOP}. It carries both
 * roles of the stream protocol ({@link BusProtocol}): streams this loop dispatched to peers, and
 * streams peers asked this site to serve. Everything here runs on that one event loop.
 */
public final class Inbox {

  private static final Logger log = LoggerFactory.getLogger(Inbox.class);
  /** Stream ids are unique per node, whichever loop opens them. */
  private static final AtomicLong NEXT_SID = new AtomicLong();

  private final Vertx vertx;
  private final EventBus bus;
  private final NodeConfig config;
  private final String site;
  private final String address;
  private final SiteBackend backend;
  private final Map<Long, RemoteStream> outgoing = new HashMap<>();
  private final Map<String, ServedStream> incoming = new HashMap<>();
  /**
   * Streams served lately and whether their head went out: how an abandon that arrives after the
   * stream ended is answered truthfully. Bounded; an abandon comes within an ack timeout or two.
   */
  private final Map<String, Boolean> recentlyServed = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > RECENTLY_SERVED;
    }
  };
  /** Opens sent and not yet answered, each for {@code connect-timeout}. */
  private final FixedTimeouts<RemoteStream> ackTimeouts;
  /** Opens whose ack timed out, waiting for the site to say it stopped: {@value RemoteStream#ABANDON_WAIT} ack timeouts. */
  private final FixedTimeouts<RemoteStream> abandonWaits;
  /** Opens served whose ack is held back, each for {@link #ackHoldMs()}. */
  private final FixedTimeouts<ServedStream> ackHolds;
  private MessageConsumer<Buffer> consumer;
  private Context context;
  private long sweepTimer = -1;

  public Inbox(Vertx vertx, NodeConfig config, int loop, SiteBackend backend, BooleanSupplier draining) {
    this(vertx, config, config.name(), SiteState.nodeInbox(config.name(), loop), backend, draining);
  }

  /** Site {@code site}'s inbox at {@code address}, serving from {@code backend}: how a node hosts an edge site's streams. */
  public Inbox(Vertx vertx, NodeConfig config, String site, String address, SiteBackend backend, BooleanSupplier draining) {
    this.draining = draining;
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.config = config;
    this.site = site;
    this.address = address;
    this.backend = backend;
    this.ackTimeouts = new FixedTimeouts<>(vertx, config.connectTimeout().toMillis(), RemoteStream::awaitingAck,
        RemoteStream::ackTimedOut);
    this.abandonWaits = new FixedTimeouts<>(vertx, RemoteStream.ABANDON_WAIT * config.connectTimeout().toMillis(),
        RemoteStream::awaitingAck, RemoteStream::abandonTimedOut);
    this.ackHolds = new FixedTimeouts<>(vertx, ackHoldMs(), ServedStream::ackHeld, ServedStream::ack);
  }

  /** Registers the consumer; call on the event loop this inbox belongs to. */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    consumer = bus.consumer(address, this::handle);
    // Backstop for peers that vanish without the cluster noticing yet, and origins that stopped reading.
    sweepTimer = vertx.setPeriodic(1000, id -> sweep());
    return consumer.completion();
  }

  public Future<Void> stop() {
    vertx.cancelTimer(sweepTimer);
    ackTimeouts.clear();
    abandonWaits.clear();
    ackHolds.clear();
    new ArrayList<>(incoming.values()).forEach(ServedStream::cancel);
    new ArrayList<>(outgoing.values()).forEach(s -> s.broken("node is shutting down"));
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  String address() {
    return address;
  }

  void send(String to, BusFrame frame) {
    bus.send(to, frame.encode());
  }

  /** Sends {@code frame}; the future fails at once if no inbox is registered at {@code to}. */
  Future<Void> deliver(String to, BusFrame frame) {
    return bus.<Buffer>sender(to).write(frame.encode());
  }

  /** Runs {@code task} on this inbox's event loop once what it is doing now is done. */
  void later(Runnable task) {
    context.runOnContext(v -> task.run());
  }

  void awaitAck(RemoteStream stream) {
    ackTimeouts.add(stream);
  }

  void awaitAbandon(RemoteStream stream) {
    abandonWaits.add(stream);
  }

  void holdAck(ServedStream stream) {
    ackHolds.add(stream);
  }

  void forget(long sid) {
    outgoing.remove(sid);
  }

  void forgetServed(String key, boolean headSent) {
    incoming.remove(key);
    recentlyServed.put(key, headSent);
  }

  public int openStreams() {
    return outgoing.size() + incoming.size();
  }

  /**
   * Sends {@code req} to a peer site, at the inboxes its state names (an edge site's are on the
   * node it is attached to); the future completes with the head of its answer.
   */
  public Future<RelayResponse> open(SiteState site, RelayRequest req, String modelKey, Cancellation cancel) {
    return open(site, req, modelKey, cancel, () -> { });
  }

  /** As {@link #open(SiteState, RelayRequest, String, Cancellation)}; {@code ended} runs once the stream has ended. */
  public Future<RelayResponse> open(SiteState site, RelayRequest req, String modelKey, Cancellation cancel,
                                    Runnable ended) {
    long sid = NEXT_SID.incrementAndGet();
    String target = site.inbox((int) Long.remainderUnsigned(sid, site.loops()));
    RemoteStream stream = new RemoteStream(this, sid, site.name(), target, ended);
    outgoing.put(sid, stream);
    cancel.onCancel(stream::cancel);
    return stream.open(req, modelKey);
  }

  /**
   * Connects the bus to a new peer now rather than on its first request, whose open would
   * otherwise also pay for the connection and its TLS handshake; and looks up every one of its
   * inboxes, whose registrations the bus then keeps. A lookup is a cluster read: left to a
   * request, it waits whenever a member holding that part of the registry is unreachable (for
   * seconds, while a cut-off member is being detected).
   */
  public void warmUp(SiteState site) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(WARM_UP_TIMEOUT_MS);
    for (int loop = 0; loop < site.loops(); loop++) {
      vertx.eventBus().request(site.inbox(loop), new BusFrame(BusFrame.Kind.PING, 0, address).encode(), opts)
          .onFailure(err -> log.debug("bus warm-up to '{}' failed: {}", site.name(), err.getMessage()));
    }
  }

  /**
   * Whether the inbox at {@code address} answers a ping within {@code timeoutMs}: how a node learns
   * that an edge site is still attached elsewhere before it takes the name over.
   */
  public static Future<Void> ping(Vertx vertx, String address, long timeoutMs) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(timeoutMs);
    return vertx.eventBus().request(address, new BusFrame(BusFrame.Kind.PING, 0, "").encode(), opts).mapEmpty();
  }

  /** A peer left the mesh: its streams end now rather than at a timeout. */
  public void siteLost(String site) {
    for (RemoteStream s : new ArrayList<>(outgoing.values())) {
      if (s.site().equals(site)) {
        s.broken("site '" + site + "' left the mesh");
      }
    }
  }

  private static final long WARM_UP_TIMEOUT_MS = 10_000;
  private static final long MAX_ACK_HOLD_MS = 20;
  private static final int RECENTLY_SERVED = 4096;
  private final BooleanSupplier draining;
  private boolean droppedOnce;

  private void handle(Message<Buffer> msg) {
    BusFrame f;
    try {
      f = BusFrame.decode(msg.body());
    } catch (IllegalArgumentException e) {
      dropUnreadable(e.getMessage());
      return;
    }
    if (f.kind == null) {
      return; // a kind from a newer peer: ignored
    }
    switch (f.kind) {
      case OPEN -> serve(f);
      case PING -> msg.reply(Buffer.buffer());
      case GRANT -> {
        ServedStream s = incoming.get(f.from + '/' + f.sid);
        if (s != null) {
          s.onCredit(f.value);
        }
      }
      case CANCEL -> {
        ServedStream s = incoming.get(f.from + '/' + f.sid);
        if (s != null) {
          s.cancel();
        }
      }
      case ABANDON -> abandon(f);
      default -> {
        RemoteStream s = outgoing.get(f.sid);
        if (s != null) {
          s.onFrame(f);
        } else if (f.kind != BusFrame.Kind.END && f.kind != BusFrame.Kind.ERROR) {
          // A stream we gave up on (ack timeout, client gone): make the site stop sending.
          send(f.from, new BusFrame(BusFrame.Kind.CANCEL, f.sid, address));
        }
      }
    }
  }

  /**
   * A message that is not a frame of this release's: inbox addresses carry the frames' version, so
   * only a peer's bug or garbage gets here. Dropped; an origin's ack timeout covers an open.
   */
  private void dropUnreadable(String why) {
    if (!droppedOnce) {
      droppedOnce = true;
      log.warn("dropping bus messages this node cannot read ({}); are all nodes on the same release?", why);
    }
  }

  private void serve(BusFrame open) {
    String modelKey = open.model;
    if (draining.getAsBoolean()) {
      // Peers learn of the drain within milliseconds; until then their opens go back to be retried elsewhere.
      refuse(open, BusProtocol.BUSY, "site '" + site + "' is draining");
      return;
    }
    if (!backend.tryAcquire(modelKey)) {
      refuse(open, BusProtocol.BUSY, backend.whyFull(modelKey));
      return;
    }
    String key = open.from + '/' + open.sid;
    Cancellation cancel = new Cancellation();
    ServedStream stream = new ServedStream(this, key, open.from, open.sid, open.value, cancel);
    stream.holdAck();
    incoming.put(key, stream);
    RelayRequest req = new RelayRequest(HttpMethod.valueOf(open.method), open.uri, open.headers, open.payload);
    backend.relayAcquired(req, modelKey, cancel).onComplete(stream::onResponse);
  }

  /** Turns an open down before anything started: the origin may try another site. */
  private void refuse(BusFrame open, int status, String why) {
    send(open.from, new BusFrame(BusFrame.Kind.ERROR, open.sid, address).value(status).flag(BusFrame.RETRYABLE)
        .payload(Buffer.buffer(why)));
  }

  /**
   * The origin gave up waiting for our ack: stop unless our first frame is already out (then it is
   * the answer, and nothing more is sent). The open came before this on the same connection, so a
   * stream never seen was never started.
   */
  private void abandon(BusFrame f) {
    String key = f.from + '/' + f.sid;
    ServedStream s = incoming.get(key);
    boolean started = s != null ? s.headSent() : recentlyServed.getOrDefault(key, false);
    if (started) {
      return;
    }
    if (s != null) {
      s.cancel();
    }
    refuse(f, 504, "site '" + site + "' did not acknowledge the request in time");
  }

  /**
   * How long a site may hold its ack to an open hoping to send the whole answer in its place: well
   * inside the origin's ack timeout, and short, as the ack is what an origin that waits longer needs.
   */
  private long ackHoldMs() {
    return Math.max(1, Math.min(MAX_ACK_HOLD_MS, config.connectTimeout().toMillis() / 10));
  }

  private void sweep() {
    long now = System.nanoTime();
    long firstByte = TimeUnit.MILLISECONDS.toNanos(config.firstByteTimeout().toMillis() + config.connectTimeout().toMillis() + 1000);
    long idle = TimeUnit.MILLISECONDS.toNanos(config.streamIdleTimeout().toMillis() + 1000);
    List<RemoteStream> expired = new ArrayList<>();
    for (RemoteStream s : outgoing.values()) {
      if (!s.paused() && (s.headReceived() ? now - s.lastActivity > idle : now - s.openedAt > firstByte)) {
        expired.add(s);
      }
    }
    for (RemoteStream s : expired) {
      s.broken(s.headReceived() ? "site '" + s.site() + "' went silent mid-stream"
          : "site '" + s.site() + "' did not answer in time");
    }
    List<ServedStream> starved = new ArrayList<>();
    for (ServedStream s : incoming.values()) {
      if (s.starved() && now - s.lastActivity > idle) {
        starved.add(s);
      }
    }
    starved.forEach(ServedStream::cancel);
  }
}
