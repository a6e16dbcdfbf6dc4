package io.hivemesh.edge;

import io.hivemesh.NodeConfig;
import io.hivemesh.backend.InventoryPoller;
import io.hivemesh.backend.OllamaBackend;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.SiteInventory;
import io.hivemesh.relay.RelayRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code hive edge}: a site that nobody can reach. It polls its Ollama like a node does, dials one
 * node of the mesh over a WebSocket (TLS unless the address says {@code ws://}), announces what
 * it holds, and answers the streams that node opens, relaying each to its Ollama. When the link
 * breaks it dials the next address, waiting longer after each failure (with jitter, so edges
 * that lost the same node do not return in one burst). Runs on a single event loop.
 */
public final class EdgeAgent {

  private static final Logger log = LoggerFactory.getLogger(EdgeAgent.class);
  /** First wait before redialling; it doubles per failed attempt up to {@code --reconnect-max}. */
  private static final long FIRST_RETRY_MS = 100;
  /** Largest open frame taken: a request body up to a node's default body-limit of 64 MiB, and its headers. */
  private static final int MAX_MESSAGE = 65 * 1024 * 1024;

  private final Vertx vertx;
  private final EdgeConfig config;
  private final NodeConfig site;
  private final OllamaBackend backend;
  private final InventoryPoller poller;
  private final WebSocketClient client;
  private Context context;
  private Connection current;
  private int next;
  private int failures;
  private long retryTimer = -1;
  private boolean stopped;
  private String lastRefusal;

  private EdgeAgent(Vertx vertx, EdgeConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.site = config.site();
    this.backend = new OllamaBackend(vertx, site, new LocalLoad(site.maxInflight(), site.maxQueuePerModel(), () -> { }));
    this.poller = new InventoryPoller(vertx, site, p -> siteChanged());
    backend.onInventoryChange(poller::refreshNow);
    backend.onUnreachable(poller::refreshNow);
    backend.onModelUse(poller::modelRequested, poller::modelAnswering);
    WebSocketClientOptions options = new WebSocketClientOptions().setVerifyHost(true).setTcpNoDelay(true)
        .setMaxMessageSize(MAX_MESSAGE).setConnectTimeout((int) Math.max(1000, site.connectTimeout().toMillis()));
    if (config.meshCa() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(config.meshCa().toString()));
    }
    this.client = vertx.createWebSocketClient(options);
  }

  /** Starts polling the local Ollama and dialling the mesh; completes once the first poll is done. */
  public static Future<EdgeAgent> start(EdgeConfig config) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    EdgeAgent agent = new EdgeAgent(vertx, config);
    Promise<EdgeAgent> started = Promise.promise();
    vertx.runOnContext(v -> {
      agent.context = vertx.getOrCreateContext();
      agent.poller.start().onComplete(ar -> {
        agent.dial();
        started.complete(agent);
      });
    });
    return started.future();
  }

  /** The node address this edge is attached to now, or null. */
  public URI attachedTo() {
    Connection c = current;
    return c == null || !c.announced ? null : c.address;
  }

  private void dial() {
    if (stopped) {
      return;
    }
    URI address = config.connect().get(next % config.connect().size());
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(address.getHost()).setPort(address.getPort())
        .setSsl("wss".equals(address.getScheme()))
        .setURI(EdgeProtocol.PATH + "?name=" + URLEncoder.encode(site.name(), StandardCharsets.UTF_8))
        .setTimeout(Math.max(2000, 4 * site.connectTimeout().toMillis()));
    if (!config.token().isEmpty()) {
      options.putHeader("Authorization", "Bearer " + config.token());
    }
    client.connect(options).onComplete(ar -> {
      if (stopped) {
        if (ar.succeeded()) {
          ar.result().close();
        }
        return;
      }
      if (ar.succeeded()) {
        failures = 0;
        lastRefusal = null;
        current = new Connection(address, ar.result());
        current.start();
      } else {
        refused(address, ar.cause());
        redial();
      }
    });
  }

  /** One line per change of reason, not one per attempt: a refused edge retries for as long as it runs. */
  private void refused(URI address, Throwable err) {
    String why = err instanceof UpgradeRejectedException rejected
        ? "refused " + rejected.getStatus() + (rejected.getBody() == null ? "" : " " + rejected.getBody().toString())
        : String.valueOf(err.getMessage());
    String line = address + ": " + why;
    if (!line.equals(lastRefusal)) {
      lastRefusal = line;
      log.warn("edge '{}': cannot attach to {}; trying the next address", site.name(), line);
    }
  }

  /** The next address after a wait that doubles per failure, half of it random. */
  private void redial() {
    next++;
    long cap = config.reconnectMax().toMillis();
    long wait = Math.min(cap, FIRST_RETRY_MS << Math.min(failures, 20));
    failures++;
    long delay = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
    retryTimer = vertx.setTimer(Math.max(1, delay), id -> dial());
  }

  private void siteChanged() {
    if (current != null) {
      current.announce();
    }
  }

  private JsonObject siteJson() {
    SiteInventory inv = poller.inventory();
    JsonObject json = new JsonObject().put("healthy", poller.healthy()).put("version", inv.version())
        .put("tags", new JsonArray(new ArrayList<>(inv.tags()))).put("ps", new JsonArray(new ArrayList<>(inv.ps())))
        .put("slots", site.parallel()).put("max", site.maxInflight()).put("max_per_model", site.maxQueuePerModel());
    backend.speed().measured().putInto(json);
    return json;
  }

  /** Stops dialling, closes the link (the node withdraws the site at once) and the edge's Vert.x. */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      stopped = true;
      vertx.cancelTimer(retryTimer);
      Future<Void> closed = current == null ? Future.succeededFuture() : current.close("the edge is stopping");
      closed.recover(err -> Future.succeededFuture())
          .compose(x -> poller.close()).compose(x -> backend.close())
          .onComplete(x -> vertx.close().onComplete(done));
    });
    return done.future();
  }

  /** One WebSocket to one node, and the streams it carries. */
  final class Connection {

    private final URI address;
    private final WebSocket ws;
    private final Map<Long, EdgeAnswer> answers = new HashMap<>();
    private long lastHeard = System.nanoTime();
    private long heartbeat = -1;
    private boolean closed;
    private boolean announced;

    Connection(URI address, WebSocket ws) {
      this.address = address;
      this.ws = ws;
    }

    void start() {
      ws.binaryMessageHandler(this::onFrame);
      ws.exceptionHandler(err -> log.debug("edge '{}': {}", site.name(), err.getMessage()));
      ws.closeHandler(v -> lost("the node closed the connection"));
      heartbeat = vertx.setPeriodic(EdgeProtocol.HEARTBEAT_MS, id -> {
        long silent = (System.nanoTime() - lastHeard) / 1_000_000;
        if (silent > EdgeProtocol.SILENCE_MS) {
          lost("the node was silent for " + silent + " ms");
        } else {
          send(EdgeProtocol.frame(EdgeProtocol.PING, 0, (Buffer) null));
        }
      });
      announce();
      announced = true;
      log.info("edge '{}' attached to {}", site.name(), address);
    }

    void announce() {
      send(EdgeProtocol.frame(EdgeProtocol.SITE, 0, siteJson()));
    }

    void send(Buffer frame) {
      if (!closed) {
        ws.writeBinaryMessage(frame);
      }
    }

    void forget(long sid) {
      answers.remove(sid);
    }

    private void onFrame(Buffer frame) {
      lastHeard = System.nanoTime();
      try {
        byte kind = EdgeProtocol.kind(frame);
        long sid = EdgeProtocol.sid(frame);
        switch (kind) {
          case EdgeProtocol.PONG -> { }
          case EdgeProtocol.OPEN -> open(sid, EdgeProtocol.openOf(frame));
          case EdgeProtocol.CREDIT -> {
            EdgeAnswer a = answers.get(sid);
            if (a != null) {
              a.onCredit(EdgeProtocol.creditOf(frame));
            }
          }
          case EdgeProtocol.CANCEL -> {
            EdgeAnswer a = answers.get(sid);
            if (a != null) {
              a.cancel();
            }
          }
          default -> throw new EdgeProtocol.BadFrame("a frame of kind " + kind);
        }
      } catch (RuntimeException e) {
        lost("the node sent " + e.getMessage());
      }
    }

    private void open(long sid, EdgeProtocol.Open open) {
      JsonObject r = open.request();
      if (answers.containsKey(sid)) {
        throw new EdgeProtocol.BadFrame("a second open of stream " + sid);
      }
      EdgeAnswer answer = new EdgeAnswer(this, sid, r.getInteger("credit", EdgeProtocol.WINDOW));
      answers.put(sid, answer);
      RelayRequest req = new RelayRequest(HttpMethod.valueOf(r.getString("method", "POST")), r.getString("uri", "/"),
          EdgeProtocol.headersOf(r.getJsonObject("headers")), open.body());
      backend.relay(req, r.getString("model", ""), answer.cancellation()).onComplete(answer::onResponse);
    }

    private void lost(String why) {
      if (closed) {
        return;
      }
      close(why);
      if (current == this) {
        current = null;
      }
      redial();
    }

    Future<Void> close(String why) {
      if (closed) {
        return Future.succeededFuture();
      }
      log.info("edge '{}' detached from {}: {}", site.name(), address, why);
      closed = true;
      vertx.cancelTimer(heartbeat);
      // Nobody is left to read these answers: stop them at the Ollama.
      new ArrayList<>(answers.values()).forEach(EdgeAnswer::cancel);
      return ws.isClosed() ? Future.succeededFuture() : ws.close();
    }
  }
}
