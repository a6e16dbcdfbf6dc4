package io.hivemesh.api;

import io.hivemesh.NodeConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps idle and slow clients from holding the node: a cap on open connections, and a deadline on
 * every connection that is not in the middle of a request. A new connection must deliver its
 * first request's headers within {@code --header-timeout}; after an answer, the next request's
 * headers must arrive within {@code --keep-alive-timeout}; otherwise the connection is closed. The
 * body has its own deadline ({@link BodyReader}). One per event loop; the count is node-wide.
 *
 * <p>Deadlines are checked by one sweep per loop, a tenth of the shorter timeout apart (at most one
 * second), rather than by a timer per request: arming and cancelling a timer around every request
 * cost the event loop more than the whole check. A connection is closed within its timeout plus one
 * sweep interval.
 */
public final class ConnectionGuard {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final long REFUSAL_LOG_INTERVAL_NS = 60_000_000_000L;

  private final Vertx vertx;
  private final NodeConfig config;
  private final ClientLimits limits;
  /** This loop's connections; bounded by {@code --max-connections}, since a refused one never enters. */
  private final Map<HttpConnection, Tracked> connections = new HashMap<>();
  private static final long NO_DEADLINE = Long.MIN_VALUE;
  private long sweeper = -1;

  public ConnectionGuard(Vertx vertx, NodeConfig config, ClientLimits limits) {
    this.vertx = vertx;
    this.config = config;
    this.limits = limits;
  }

  /** The parser's own bounds: Vert.x answers 414 / 431 and closes past them. */
  public static HttpServerOptions bound(HttpServerOptions options, NodeConfig config) {
    // Without cleartext HTTP/2 the server knows the protocol at accept, so a connection counts (and its
    // header deadline runs) from then on, not from its first bytes. Ollama clients speak HTTP/1.1.
    // A TLS handshake comes before the connection is counted: it gets the header deadline too.
    return options.setMaxInitialLineLength(config.maxInitialLine()).setMaxHeaderSize(config.maxHeaderSize())
        .setHttp2ClearTextEnabled(false)
        .setSslHandshakeTimeout(config.headerTimeout().toMillis()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
  }

  /**
   * A new connection. Past the cap it is closed at once: the client learns within a round trip
   * and can go elsewhere, where a connection left in the kernel's accept queue would hang it until
   * its own connect timeout, and an accepted one would cost a descriptor the node may need for its
   * Ollama and its peers.
   */
  public void onConnection(HttpConnection conn) {
    if (limits.openConnections.incrementAndGet() > config.maxConnections()) {
      limits.openConnections.decrementAndGet();
      logRefusal();
      conn.close();
      return;
    }
    Tracked t = new Tracked(conn);
    connections.put(conn, t);
    conn.closeHandler(v -> {
      connections.remove(conn);
      t.closed = true;
      limits.openConnections.decrementAndGet();
    });
    t.deadline = System.nanoTime() + config.headerTimeout().toNanos();
    if (sweeper < 0) {
      sweeper = vertx.setPeriodic(sweepIntervalMs(config), id -> sweep());
    }
  }

  static long sweepIntervalMs(NodeConfig config) {
    long shorter = Math.min(config.headerTimeout().toMillis(), config.keepAliveTimeout().toMillis());
    return Math.max(10, Math.min(1000, shorter / 10));
  }

  /** Closes the connections whose deadline has passed; a connection serving a request has none. */
  private void sweep() {
    long now = System.nanoTime();
    List<HttpConnection> late = null;
    for (Tracked t : connections.values()) {
      if (t.deadline != NO_DEADLINE && now - t.deadline >= 0) {
        t.deadline = NO_DEADLINE;
        (late == null ? late = new ArrayList<>() : late).add(t.conn);
      }
    }
    if (late != null) {
      late.forEach(HttpConnection::close);
    }
  }

  /** A request's headers are in, so its connection is in use until the answer ends. */
  void onRequest(Exchange x) {
    Tracked t = connections.get(x.request.connection());
    if (t != null) {
      t.requests++;
      t.deadline = NO_DEADLINE;
      x.atEnd(() -> {
        if (--t.requests == 0 && !t.closed) {
          t.deadline = System.nanoTime() + config.keepAliveTimeout().toNanos();
        }
      });
    }
  }

  /**
   * Descriptors the node needs besides client connections: one per request at its Ollama, and some
   * for the cluster, the bus, its jars and logs.
   */
  private static final int RESERVED_DESCRIPTORS = 512;

  /** One clear line at start when the process could run out of descriptors before reaching the cap. */
  public static void checkDescriptorLimit(NodeConfig config) {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long limit = unix.getMaxFileDescriptorCount();
      long needed = (long) config.maxConnections() + config.maxInflight() + RESERVED_DESCRIPTORS;
      if (limit < needed) {
        log.warn("--max-connections {} with --max-inflight {} needs about {} open files, but this process may open"
            + " {} (ulimit -n): raise the limit or lower --max-connections to {}, or a flood of connections can leave"
            + " the node unable to reach its Ollama and its peers", config.maxConnections(), config.maxInflight(),
            needed, limit, Math.max(1, limit - config.maxInflight() - RESERVED_DESCRIPTORS));
      }
    }
  }

  private void logRefusal() {
    long now = System.nanoTime();
    long last = limits.lastRefusalLog.get();
    if (now - last > REFUSAL_LOG_INTERVAL_NS && limits.lastRefusalLog.compareAndSet(last, now)) {
      log.warn("node '{}' holds --max-connections {} client connections: closing new ones at once (logged once a"
          + " minute while it lasts)", config.name(), config.maxConnections());
    }
  }

  /** A connection and the one deadline it may be under. */
  private static final class Tracked {
    final HttpConnection conn;
    int requests;
    boolean closed;
    /** {@link System#nanoTime} past which the sweep closes it, or {@link #NO_DEADLINE}. */
    long deadline = NO_DEADLINE;

    Tracked(HttpConnection conn) {
      this.conn = conn;
    }
  }
}
