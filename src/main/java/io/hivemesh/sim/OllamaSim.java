package io.hivemesh.sim;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Objects;

/**
 * A faithful stand-in for an Ollama server: the same routes, shapes, content types and error texts,
 * and the same scheduling behaviour (slots per loaded model, cold loads, eviction, keep-alive, a
 * bounded load queue), with deterministic generated text paced at a configurable token rate.
 */
public final class OllamaSim {

  private final Vertx vertx;
  private final SimOptions options;
  private final SimStats stats;
  private final SimServer server;
  private final String deploymentId;
  private final int port;
  private Future<Void> closing;

  private OllamaSim(Vertx vertx, SimOptions options, SimStats stats, SimServer server, String deploymentId) {
    this.vertx = vertx;
    this.options = options;
    this.stats = stats;
    this.server = server;
    this.deploymentId = deploymentId;
    this.port = server.actualPort();
  }

  /** Starts a sim; port 0 picks a free port (see {@link #port()}). */
  public static Future<OllamaSim> start(Vertx vertx, SimOptions options) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    SimStats stats = new SimStats();
    // Looking up the machine's names may block, so it happens on a worker before deploying.
    return vertx.executeBlocking(() -> HostGuard.discover(options.host()))
        .compose(guard -> {
          SimServer server = new SimServer(options, stats, guard);
          return vertx.deployVerticle(server).map(id -> new OllamaSim(vertx, options, stats, server, id));
        });
  }

  /** The port actually bound. */
  public int port() {
    return port;
  }

  /** {@code http://host:port}, or {@code https://host:port} for a sim that serves TLS. */
  public String url() {
    String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
    return (options.tls() == null ? "http://" : "https://") + host + ":" + port;
  }

  public SimOptions options() {
    return options;
  }

  /** Live counters. */
  public SimStats stats() {
    return stats;
  }

  /**
   * Starts over with exactly {@code models} loaded, at once and without counting cold loads: a
   * benchmark's start for each contender. Not an Ollama route: the harness calls it in process.
   */
  public Future<Void> reset(List<String> models) {
    return server.reset(List.copyOf(models));
  }

  /**
   * Stops listening and closes every open connection at once, like a killed Ollama: clients in the
   * middle of an answer see the connection drop.
   */
  public synchronized Future<Void> close() {
    if (closing == null) {
      closing = server.shutdown().transform(ar -> vertx.undeploy(deploymentId)).recover(e -> Future.succeededFuture());
    }
    return closing;
  }

  @Override
  public String toString() {
    return "OllamaSim[" + options.name() + " " + url() + "]";
  }
}
