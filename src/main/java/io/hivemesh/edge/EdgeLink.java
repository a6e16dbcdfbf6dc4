package io.hivemesh.edge;

import com.hazelcast.core.HazelcastInstance;
import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.Inbox;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteBackend;
import io.hivemesh.mesh.SiteInventory;
import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.mesh.SiteState;
import io.hivemesh.model.ModelName;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attached edge, on the node it dialled: the node hosts the edge's site as if it were its own,
 * with the WebSocket in place of the HTTP connection to an Ollama. It registers the site's inbox
 * (so peers reach it over the bus like any site), publishes its inventory and load marked as
 * reached through this node, and relays each stream over the one connection. Everything runs on
 * the event loop that accepted the connection.
 */
public final class EdgeLink implements SiteBackend {

  private static final Logger log = LoggerFactory.getLogger(EdgeLink.class);
  /** An edge must say what it holds this soon after connecting. */
  private static final long FIRST_SITE_MS = 10_000;
  private static final long LOAD_DEBOUNCE_MS = 50;

  private final Vertx vertx;
  private final Context context;
  private final NodeConfig config;
  private final String name;
  private final String nodeId;
  private final String attachment = java.util.UUID.randomUUID().toString();
  private final ServerWebSocket ws;
  private final MeshView view;
  private final HazelcastInstance hazelcast;
  private final Map<Long, EdgeStream> streams = new HashMap<>();
  private final Promise<Void> closed = Promise.promise();
  private boolean closing;
  private long nextSid;
  private long lastHeard = System.nanoTime();
  private long heartbeatTimer = -1;
  private long publishTimer = -1;
  private boolean publishPending;
  private LocalLoad load;
  private boolean healthy;
  private int slots = 1;
  private SiteSpeed.Speeds speed = SiteSpeed.Speeds.UNKNOWN;
  private Set<String> loaded = Set.of();
  private SiteInventory inventory;
  private Inbox inbox;
  private EdgePublisher publisher;

  EdgeLink(Vertx vertx, NodeConfig config, String name, String nodeId, ServerWebSocket ws, MeshView view,
           HazelcastInstance hazelcast) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.config = config;
    this.name = name;
    this.nodeId = nodeId;
    this.ws = ws;
    this.view = view;
    this.hazelcast = hazelcast;
  }

  public String name() {
    return name;
  }

  /** Completes once the link is closed and the edge's site withdrawn. */
  Future<Void> closed() {
    return closed.future();
  }

  void start() {
    ws.binaryMessageHandler(this::onFrame);
    ws.textMessageHandler(t -> close("a text message; edges speak binary frames"));
    ws.exceptionHandler(err -> log.debug("edge '{}': {}", name, err.getMessage()));
    ws.closeHandler(v -> close("its connection closed"));
    heartbeatTimer = vertx.setPeriodic(EdgeProtocol.HEARTBEAT_MS, id -> {
      long silent = (System.nanoTime() - lastHeard) / 1_000_000;
      if (silent > EdgeProtocol.SILENCE_MS && inventory != null || silent > FIRST_SITE_MS) {
        close("silent for " + silent + " ms");
      }
    });
  }

  void send(Buffer frame) {
    if (!ws.isClosed()) {
      ws.writeBinaryMessage(frame);
    }
  }

  void forget(long sid) {
    streams.remove(sid);
  }

  private void onFrame(Buffer frame) {
    lastHeard = System.nanoTime();
    try {
      byte kind = EdgeProtocol.kind(frame);
      switch (kind) {
        case EdgeProtocol.PING -> send(EdgeProtocol.frame(EdgeProtocol.PONG, 0, (Buffer) null));
        case EdgeProtocol.SITE -> onSite(EdgeProtocol.json(frame));
        case EdgeProtocol.HEAD, EdgeProtocol.DATA, EdgeProtocol.END, EdgeProtocol.ERROR -> onStreamFrame(kind, frame);
        // An edge may only answer: opening streams, granting or cancelling is the node's part.
        default -> throw new EdgeProtocol.BadFrame("a frame of kind " + kind);
      }
    } catch (RuntimeException e) {
      close("it sent " + e.getMessage());
    }
  }

  private void onStreamFrame(byte kind, Buffer frame) {
    // Only streams this node opened: anything else is one it gave up on, or not the edge's business.
    EdgeStream s = streams.get(EdgeProtocol.sid(frame));
    if (s == null) {
      return;
    }
    switch (kind) {
      case EdgeProtocol.HEAD -> s.onHead(EdgeProtocol.json(frame));
      case EdgeProtocol.DATA -> s.onData(EdgeProtocol.payload(frame));
      case EdgeProtocol.END -> s.onEnd();
      default -> s.onError(EdgeProtocol.json(frame));
    }
  }

  private void onSite(JsonObject site) {
    healthy = site.getBoolean("healthy", false);
    slots = Math.max(1, site.getInteger("slots", 1));
    speed = SiteSpeed.Speeds.from(site);
    SiteInventory next = new SiteInventory(name, site.getString("version", "0.0.0"), objects(site.getJsonArray("tags")),
        objects(site.getJsonArray("ps")));
    loaded = next.ps().stream().map(p -> ModelName.key(SiteInventory.modelName(p))).collect(Collectors.toUnmodifiableSet());
    boolean first = inventory == null;
    inventory = next;
    if (first) {
      int max = Math.max(1, site.getInteger("max", 1));
      load = new LocalLoad(max, Math.max(1, site.getInteger("max_per_model", max)), this::loadChanged);
      // Not the node's drain: the edge keeps serving until the node closes and the edge moves on.
      inbox = new Inbox(vertx, config, name, SiteState.edgeInbox(name, attachment, 0), this, () -> closing);
      publisher = new EdgePublisher(vertx, context, hazelcast, view, name, attachment, config.entryTtl().toMillis(), this::state,
          () -> inventory);
      inbox.start().onSuccess(v -> {
        if (!closing) {
          publisher.publish();
          publishTimer = vertx.setPeriodic(config.publishInterval().toMillis(), id -> publisher.publish());
          log.info("edge '{}' attached from {}: {} models, published through node '{}'", name, ws.remoteAddress(),
              next.tags().size(), config.name());
        }
      }).onFailure(err -> close("its inbox could not be registered: " + err.getMessage()));
    }
    // Later changes go out with the next refresh, not per frame: however often an edge announces,
    // the mesh rebuilds its views no faster than it would for a node of its own.
  }

  private static List<JsonObject> objects(JsonArray a) {
    return a == null ? List.of()
        : a.stream().filter(JsonObject.class::isInstance).map(JsonObject.class::cast).toList();
  }

  private SiteState state() {
    return new SiteState(name, nodeId, 1, healthy, false, slots, load.maxInflight(),
        load.maxPerModel(), load.total(), load.snapshot(), loaded, load.served(), 0, 0, config.name(), attachment, 0, speed);
  }

  /** Peers see a changed load as soon as for the node's own site: {@value #LOAD_DEBOUNCE_MS} ms, or the gap of a larger mesh. */
  private void loadChanged() {
    if (!publishPending && publishTimer >= 0) {
      publishPending = true;
      vertx.setTimer(LOAD_DEBOUNCE_MS, id -> {
        publishPending = false;
        publisher.publish();
      });
    }
  }

  // ---- SiteBackend: what the hosted inbox serves from ----

  @Override
  public boolean tryAcquire(String modelKey) {
    return load != null && !closing && load.tryAcquire(modelKey);
  }

  @Override
  public String whyFull(String modelKey) {
    if (load == null || closing) {
      return "edge '" + name + "' is not attached";
    }
    return load.forModel(modelKey) >= load.maxPerModel()
        ? "site '" + name + "' is at its limit of " + load.maxPerModel() + " requests for model '" + modelKey + "'"
        : "site '" + name + "' is at its limit of " + load.maxInflight() + " requests";
  }

  @Override
  public Future<RelayResponse> relayAcquired(RelayRequest req, String modelKey, Cancellation cancel) {
    boolean[] released = {false};
    Runnable release = () -> {
      if (!released[0]) {
        released[0] = true;
        load.release(modelKey);
      }
    };
    if (closing || cancel.cancelled()) {
      release.run();
      return Future.failedFuture(cancel.cancelled() ? Cancellation.canceled()
          : new RelayException(502, "edge '" + name + "' is not attached", true));
    }
    long sid = ++nextSid;
    EdgeStream stream = new EdgeStream(this, sid, release);
    streams.put(sid, stream);
    cancel.onCancel(stream::cancel);
    JsonObject request = new JsonObject().put("method", req.method().name()).put("uri", req.uri())
        .put("model", modelKey).put("headers", EdgeProtocol.headersJson(req.headers()))
        .put("credit", EdgeProtocol.WINDOW);
    send(EdgeProtocol.open(sid, request, req.body()));
    return stream.head();
  }

  Future<Void> closeOnItsLoop(String why) {
    context.runOnContext(v -> close(why));
    return closed.future();
  }

  /**
   * Ends the link: the edge's site leaves this node's view at once and the cluster right after;
   * streams not yet answered fail over, answers under way end with an error line.
   */
  Future<Void> close(String why) {
    if (closing) {
      return closed.future();
    }
    closing = true;
    log.info("edge '{}' detached from node '{}': {}", name, config.name(), why);
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(publishTimer);
    publishTimer = -1;
    if (!ws.isClosed()) {
      ws.close();
    }
    Future<Void> withdrawn = publisher == null ? Future.succeededFuture() : publisher.withdraw();
    for (EdgeStream s : new ArrayList<>(streams.values())) {
      s.broken("edge '" + name + "' lost its connection to node '" + config.name() + "'");
    }
    Future<Void> inboxStopped = inbox == null ? Future.succeededFuture() : inbox.stop();
    Future.all(withdrawn, inboxStopped).onComplete(ar -> closed.tryComplete());
    return closed.future();
  }
}
