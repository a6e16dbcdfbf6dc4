package io.hivemesh.backend;

import io.hivemesh.NodeConfig;
import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.mesh.SiteBackend;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.buffer.BufferInternal;
import java.net.ConnectException;
import java.net.URI;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * This site's Ollama, as the mesh calls it: every relayed request, local or from a peer, goes
 * through {@link #relay}, which also keeps the site's exact in-flight count ({@link LocalLoad}).
 */
public final class OllamaBackend implements SiteBackend {

  /** Paths whose success changes what the site holds: the inventory is polled again right after. */
  private static final Set<String> INVENTORY_CHANGING = Set.of("/api/pull", "/api/delete", "/api/copy", "/api/create");
  /** How long a connection to Ollama may stay idle before it is closed (the Vert.x client's default). */
  private static final long IDLE_CONNECTION_MS = 60_000;

  private final Vertx vertx;
  private final NodeConfig config;
  private final LocalLoad load;
  private final SiteSpeed speed = new SiteSpeed();
  private final OllamaConnections connections;
  private final LocalResponse.Settings answers;
  private final String hostHeader;
  private final String basePath;
  private volatile Runnable onInventoryChange = () -> { };
  private volatile Runnable onUnreachable = () -> { };
  private volatile LongConsumer onAnswerStarted = nanos -> { };
  private volatile Consumer<String> onModelRequested = modelKey -> { };
  private volatile Consumer<String> onModelAnswering = modelKey -> { };

  public OllamaBackend(Vertx vertx, NodeConfig config, LocalLoad load) {
    this.vertx = vertx;
    this.config = config;
    this.load = load;
    URI url = config.ollama();
    boolean tls = "https".equals(url.getScheme());
    String host = url.getHost();
    int port = url.getPort() > 0 ? url.getPort() : tls ? 443 : 80;
    String path = url.getPath() == null ? "" : url.getPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    boolean defaultPort = url.getPort() < 0 || url.getPort() == (tls ? 443 : 80);
    this.hostHeader = defaultPort ? host : host + ":" + port;
    this.answers = new LocalResponse.Settings(config.name(), config.firstByteTimeout().toNanos(),
        config.streamIdleTimeout().toMillis(), speed);
    // A streaming answer holds its connection to the end, and Ollama queues what it cannot run yet
    // itself: there are as many connections as requests the site has admitted, or requests for an
    // idle model would wait behind requests for a busy one.
    this.connections = new OllamaConnections(vertx, host, port, tls, config.tls().ollamaTrust(),
        config.connectTimeout().toMillis(), IDLE_CONNECTION_MS);
  }

  public void onInventoryChange(Runnable hook) {
    this.onInventoryChange = hook;
  }

  public void onUnreachable(Runnable hook) {
    this.onUnreachable = hook;
  }

  /** Told the model key of every request relayed to this site's Ollama, and again when its answer starts. */
  public void onModelUse(Consumer<String> requested, Consumer<String> answering) {
    this.onModelRequested = requested;
    this.onModelAnswering = answering;
  }

  /** Told how long this site's Ollama took to start each answer (nanoseconds). */
  public void onAnswerStarted(LongConsumer hook) {
    this.onAnswerStarted = hook;
  }

  public LocalLoad load() {
    return load;
  }

  /** How fast this site's Ollama answers, learned from the answers relayed so far. */
  public SiteSpeed speed() {
    return speed;
  }

  @Override
  public boolean tryAcquire(String modelKey) {
    return load.tryAcquire(modelKey);
  }

  /** Read after the refusal, so a close guess. */
  @Override
  public String whyFull(String modelKey) {
    return load.forModel(modelKey) >= load.maxPerModel()
        ? "site '" + config.name() + "' is at its limit of " + load.maxPerModel() + " requests for model '"
            + modelKey + "'"
        : "site '" + config.name() + "' is at its limit of " + load.maxInflight() + " requests";
  }

  /** Relays to this site's Ollama, counting the request until its answer ends. */
  public Future<RelayResponse> relay(RelayRequest req, String modelKey, Cancellation cancel) {
    if (!load.tryAcquire(modelKey)) {
      return Future.failedFuture(new RelayException(503, whyFull(modelKey), true));
    }
    return relayAcquired(req, modelKey, cancel);
  }

  /** As {@link #relay}, for a request that already holds its place ({@link #tryAcquire}). */
  @Override
  public Future<RelayResponse> relayAcquired(RelayRequest req, String modelKey, Cancellation cancel) {
    Release release = new Release(load, modelKey, INVENTORY_CHANGING.contains(pathOf(req.uri())) ? onInventoryChange : null);
    if (!modelKey.isEmpty()) {
      onModelRequested.accept(modelKey);
    }
    long start = System.nanoTime();
    return connections.acquire()
        .compose(connection -> send(connection, req, release, modelKey, cancel))
        .recover(err -> {
          // A connection Ollama (or a proxy before it) closed while idle fails the next request sent
          // on it before anything is read: the race of every keep-alive client. Nothing was
          // answered, so the request goes once more, on a new connection.
          if (err instanceof LocalResponse.OllamaClosedException closed && closed.reusedConnection()
              && !cancel.cancelled()) {
            return connections.connect().compose(connection -> send(connection, req, release, modelKey, cancel));
          }
          return Future.failedFuture(err);
        })
        .transform(sent -> {
          if (sent.failed()) {
            release.run();
            return Future.failedFuture(toRelayException(sent.cause(), cancel));
          }
          onAnswerStarted.accept(System.nanoTime() - start);
          if (!modelKey.isEmpty()) {
            onModelAnswering.accept(modelKey);
          }
          return Future.succeededFuture(sent.result());
        });
  }

  private Future<RelayResponse> send(OllamaConnection connection, RelayRequest req, Release release, String modelKey,
                                     Cancellation cancel) {
    if (cancel.cancelled()) {
      connection.reset(CloseReason.CANCELLED);
      return Future.failedFuture(Cancellation.canceled());
    }
    return LocalResponse.send(vertx, answers, connection, encode(req), release, modelKey, cancel);
  }

  /** The request as Ollama gets it: the client's forwarded headers and body, the site's own host and path. */
  private FullHttpRequest encode(RelayRequest req) {
    ByteBuf body = ((BufferInternal) req.body()).getByteBuf();
    HttpMethod method = HttpMethod.valueOf(req.method().name());
    DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, basePath + req.uri(),
        body);
    HttpHeaders headers = request.headers();
    if (req.headers() instanceof HttpHeaders forwarded) {
      // Vert.x's header maps are Netty's: names go across as the ASCII strings they are, not as new Strings.
      Iterator<Map.Entry<CharSequence, CharSequence>> each = forwarded.iteratorCharSequence();
      while (each.hasNext()) {
        Map.Entry<CharSequence, CharSequence> h = each.next();
        headers.add(h.getKey(), h.getValue());
      }
    } else {
      req.headers().forEach((name, value) -> headers.add(name, value));
    }
    // Set after the forwarded ones, so whatever a peer's open carried, Ollama sees one Host: its own.
    headers.set(HttpHeaderNames.HOST, hostHeader);
    if (body.isReadable() || (method != HttpMethod.GET && method != HttpMethod.HEAD)) {
      headers.set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    }
    return request;
  }

  private RelayException toRelayException(Throwable err, Cancellation cancel) {
    if (err instanceof RelayException re) {
      return re;
    }
    if (cancel.cancelled()) {
      return Cancellation.canceled();
    }
    if (err instanceof ConnectException || err.getClass().getSimpleName().contains("ConnectTimeout")
        || String.valueOf(err.getMessage()).contains("Connection refused")) {
      onUnreachable.run();
      return new RelayException(502, "site '" + config.name() + "': Ollama is not reachable", true);
    }
    if (err instanceof TimeoutException) {
      return new RelayException(504, "site '" + config.name() + "': Ollama did not answer within "
          + config.firstByteTimeout().toSeconds() + "s", true);
    }
    if (err.getClass().getSimpleName().contains("Closed") || err.getClass().getSimpleName().contains("Reset")) {
      return new RelayException(502, "site '" + config.name() + "': Ollama closed the connection", true);
    }
    return new RelayException(502, "site '" + config.name() + "': " + err.getMessage(), true);
  }

  private static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  public Future<Void> close() {
    return connections.close();
  }

  /** What the connections to this site's Ollama have done: opened, failed to open, closed and why. */
  public OllamaConnectionStats connectionStats() {
    return connections.stats();
  }

  /** Gives the request's place back exactly once, however its answer ends. */
  static final class Release implements Runnable {
    private final LocalLoad load;
    private final String modelKey;
    private final Runnable afterwards;
    private boolean done;

    Release(LocalLoad load, String modelKey, Runnable afterwards) {
      this.load = load;
      this.modelKey = modelKey;
      this.afterwards = afterwards;
    }

    @Override
    public void run() {
      if (!done) {
        done = true;
        load.release(modelKey);
        if (afterwards != null) {
          afterwards.run();
        }
      }
    }
  }
}
