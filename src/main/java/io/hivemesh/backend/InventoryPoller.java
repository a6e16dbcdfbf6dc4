package io.hivemesh.backend;

import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.SiteInventory;
import io.hivemesh.model.ModelName;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health probe and inventory of this site's Ollama in one: polls {@code /api/tags},
 * {@code /api/ps} and {@code /api/version} with a short timeout, on its own small connection pool
 * so that busy streaming connections never delay a probe.
 */
public final class InventoryPoller {

  private static final Logger log = LoggerFactory.getLogger(InventoryPoller.class);

  private final Vertx vertx;
  private final NodeConfig config;
  private final HttpClientAgent client;
  private final String host;
  private final int port;
  private final String basePath;
  private final Consumer<InventoryPoller> onChange;
  private volatile SiteInventory inventory;
  private volatile Set<String> loadedKeys = Set.of();
  private volatile boolean healthy;
  /**
   * A probe that times out once on a busy machine is not an outage: only a refused connection or
   * this many failed probes in a row take the site out. Relays fail over meanwhile.
   */
  private static final int FAILURES_BEFORE_DOWN = 2;
  private int failures;
  /** Whether any probe has finished yet: the first outcome is always worth a log line. */
  private boolean probed;
  private boolean polling;
  private boolean again;
  /** Ollama drops the evicted model from /api/ps when the load starts, not when it ends. */
  static final long COLD_REQUEST_POLL_DELAY_MS = 100;
  private final AtomicBoolean soon = new AtomicBoolean();
  private long timer = -1;
  private Context context;

  public InventoryPoller(Vertx vertx, NodeConfig config, Consumer<InventoryPoller> onChange) {
    this.vertx = vertx;
    this.config = config;
    this.onChange = onChange;
    URI url = config.ollama();
    boolean tls = "https".equals(url.getScheme());
    this.host = url.getHost();
    this.port = url.getPort() > 0 ? url.getPort() : tls ? 443 : 80;
    String path = url.getPath() == null ? "" : url.getPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.inventory = new SiteInventory(config.name(), "0.0.0", List.of(), List.of());
    this.client = vertx.createHttpClient(
        new HttpClientOptions().setSsl(tls).setTrustOptions(tls ? config.tls().ollamaTrust() : null)
            .setConnectTimeout((int) config.connectTimeout().toMillis()).setMetricsName("ollama-probe"),
        new PoolOptions().setHttp1MaxSize(2).setMaxWaitQueueSize(8));
  }

  public SiteInventory inventory() {
    return inventory;
  }

  public Set<String> loadedKeys() {
    return loadedKeys;
  }

  public boolean healthy() {
    return healthy;
  }

  /** Polls once now, then every {@code inventory-interval}. */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    return poll().onComplete(ar -> timer = vertx.setPeriodic(config.inventoryInterval().toMillis(), id -> poll()));
  }

  /** Polls as soon as possible (after a pull or delete, or a failed relay). */
  public void refreshNow() {
    context.runOnContext(v -> poll());
  }

  /**
   * A request for a model that is not loaded makes Ollama load it, and unload another first when
   * it holds as many as it may: polls again shortly, so the mesh stops sending that other model's
   * requests here within a fraction of a second rather than at the next periodic poll.
   */
  public void modelRequested(String modelKey) {
    if (!loadedKeys.contains(modelKey) && soon.compareAndSet(false, true)) {
      vertx.setTimer(COLD_REQUEST_POLL_DELAY_MS, id -> {
        soon.set(false);
        refreshNow();
      });
    }
  }

  /** An answer has started for a model the last poll did not see loaded: its load is done. */
  public void modelAnswering(String modelKey) {
    if (!loadedKeys.contains(modelKey)) {
      refreshNow();
    }
  }

  private Future<Void> poll() {
    if (polling) {
      again = true;
      return Future.succeededFuture();
    }
    polling = true;
    Future<JsonObject> tags = get("/api/tags");
    Future<JsonObject> ps = get("/api/ps");
    Future<JsonObject> version = get("/api/version");
    return Future.all(tags, ps, version).transform(ar -> {
      polling = false;
      if (ar.succeeded()) {
        update(true, new SiteInventory(config.name(), version.result().getString("version", "0.0.0"),
            objects(tags.result()), objects(ps.result())));
        failures = 0;
        probed = true;
      } else if (++failures >= FAILURES_BEFORE_DOWN || refused(ar.cause())) {
        if (healthy || !probed) {
          log.warn("site '{}': Ollama at {} {} ({}); the site is out of rotation until it does",
              config.name(), config.ollama(), probed ? "stopped answering" : "does not answer", ar.cause().getMessage());
        }
        probed = true;
        update(false, inventory);
      }
      if (again) {
        again = false;
        return poll();
      }
      return Future.succeededFuture();
    });
  }

  private void update(boolean nowHealthy, SiteInventory next) {
    boolean changed = nowHealthy != healthy || !next.equals(inventory);
    if (nowHealthy && !healthy) {
      log.info("site '{}': Ollama {} at {} answers with {} models", config.name(), next.version(),
          config.ollama(), next.tags().size());
    }
    healthy = nowHealthy;
    inventory = next;
    loadedKeys = next.ps().stream().map(p -> ModelName.key(SiteInventory.modelName(p))).collect(Collectors.toUnmodifiableSet());
    if (changed) {
      onChange.accept(this);
    }
  }

  private static boolean refused(Throwable err) {
    return err instanceof java.net.ConnectException || String.valueOf(err.getMessage()).contains("Connection refused");
  }

  private static List<JsonObject> objects(JsonObject body) {
    return body.getJsonArray("models", new io.vertx.core.json.JsonArray()).stream()
        .filter(JsonObject.class::isInstance).map(JsonObject.class::cast).toList();
  }

  private Future<JsonObject> get(String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
        .setURI(basePath + path).setTimeout(config.connectTimeout().toMillis())
        .setConnectTimeout(config.connectTimeout().toMillis());
    return client.request(options)
        .compose(req -> req.send())
        .compose(resp -> {
          if (resp.statusCode() != 200) {
            return resp.body().compose(b -> Future.failedFuture(path + " answered " + resp.statusCode()));
          }
          return resp.body().map(b -> b.toJsonObject());
        });
  }

  public Future<Void> close() {
    vertx.cancelTimer(timer);
    return client.close();
  }
}
