package io.hivemesh.backend;

import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.mesh.SiteBackend;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.LoopSweep;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.ConnectException;
import java.net.URI;
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
  private static final String HEAD_WAITS = "hive.answer-heads";

  private final Vertx vertx;
  private final NodeConfig config;
  private final LocalLoad load;
  private final SiteSpeed speed = new SiteSpeed();
  private final HttpClientAgent client;
  private final String host;
  private final int port;
  private final String basePath;
  private final long firstByteNanos;
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
    this.host = url.getHost();
    this.port = url.getPort() > 0 ? url.getPort() : tls ? 443 : 80;
    String path = url.getPath() == null ? "" : url.getPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.firstByteNanos = config.firstByteTimeout().toNanos();
    // A streaming answer holds its connection to the end, and Ollama queues what it cannot run yet
    // itself: the pool must hold as many connections as the site accepts requests, or requests
    // for an idle model would wait behind requests for a busy one.
    this.client = vertx.createHttpClient(
        new HttpClientOptions().setSsl(tls).setConnectTimeout((int) config.connectTimeout().toMillis())
            .setKeepAlive(true).setTcpNoDelay(true).setMetricsName("ollama"),
        new PoolOptions().setHttp1MaxSize(config.maxInflight()).setMaxWaitQueueSize(config.maxInflight()));
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
    RequestOptions options = new RequestOptions()
        .setMethod(req.method())
        .setHost(host)
        .setPort(port)
        .setURI(basePath + req.uri())
        .setConnectTimeout(config.connectTimeout().toMillis());
    long start = System.nanoTime();
    return client.request(options)
        .compose(creq -> {
          // Failures reach the caller through send()'s future or the response's exception handler;
          // without this, a reset on cancel would also be logged as an unhandled error.
          creq.exceptionHandler(err -> { });
          if (cancel.cancelled()) {
            creq.reset();
            return Future.failedFuture(Cancellation.canceled());
          }
          // Closing the connection is how Ollama learns the client is gone, even mid-load.
          cancel.onCancel(creq::reset);
          req.headers().forEach(creq::putHeader);
          HeadWait wait = new HeadWait(creq, start, firstByteNanos);
          LoopSweep.current(vertx, HEAD_WAITS, config.firstByteTimeout().toMillis() / 10).enter(wait);
          return creq.send(req.body()).transform(sent -> {
            wait.leave();
            if (sent.failed()) {
              // A reset by the head wait surfaces as a closed connection: say what happened.
              return Future.failedFuture(wait.expired ? new TimeoutException("no answer head") : sent.cause());
            }
            onAnswerStarted.accept(System.nanoTime() - start);
            if (!modelKey.isEmpty()) {
              onModelAnswering.accept(modelKey);
            }
            LocalResponse answer = started(creq, sent.result(), release, modelKey);
            cancel.onCancel(answer::cancel);
            return Future.<RelayResponse>succeededFuture(answer);
          });
        })
        .recover(err -> {
          release.run();
          return Future.failedFuture(toRelayException(err, cancel));
        });
  }

  private LocalResponse started(HttpClientRequest creq, HttpClientResponse resp, Release release, String modelKey) {
    resp.pause();
    return new LocalResponse(vertx, config.streamIdleTimeout().toMillis(), config.name(), creq, resp, release, speed,
        modelKey);
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
    return client.close();
  }

  /**
   * The wait for the head of Ollama's answer, which covers a cold model load (minutes): checked by
   * its event loop's sweep rather than a timer per request ({@link LoopSweep}). Past the limit
   * the request is reset, which fails {@code send()}.
   */
  private static final class HeadWait extends LoopSweep.Entry {
    private final HttpClientRequest request;
    private final long sentNanos;
    private final long limitNanos;
    private boolean expired;

    HeadWait(HttpClientRequest request, long sentNanos, long limitNanos) {
      this.request = request;
      this.sentNanos = sentNanos;
      this.limitNanos = limitNanos;
    }

    @Override
    protected void check(long now) {
      if (now - sentNanos >= limitNanos) {
        expired = true;
        leave();
        request.reset();
      }
    }
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
