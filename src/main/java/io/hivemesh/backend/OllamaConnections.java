package io.hivemesh.backend;

import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.relay.LoopSweep;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.TrustOptions;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to this site's Ollama: one stack of idle connections per event loop,
 * the most recently used on top, each closed after {@code idleMs} unused.
 *
 * <p>No pool bound or wait queue of its own: the site admits at most {@code max-inflight} requests
 * ({@code LocalLoad}) and each holds one connection, so a request takes the top of its loop's
 * stack, or connects when the stack is empty. A connection goes back on the stack only after an
 * answer that ended cleanly and left it reusable; every other end closes it.
 */
final class OllamaConnections {

  private static final String IDLE = "hive.ollama-idle";
  private static final String SWEEP = "hive.ollama-idle-sweep";

  private final Vertx vertx;
  private final NetClient client;
  private final ConnectOptions target;
  private final long idleMs;
  private final OllamaConnectionStats stats = new OllamaConnectionStats();
  /** Set once the node shuts down: every connection closing after that closes for that reason. */
  private volatile boolean shuttingDown;

  /**
   * {@code host} as a URL has it (an IPv6 literal in brackets); {@code trust} is what an https
   * Ollama's certificate is verified against (null: the JVM's trusted CAs).
   */
  OllamaConnections(Vertx vertx, String host, int port, boolean tls, TrustOptions trust, long connectTimeoutMs,
                    long idleMs) {
    this.vertx = vertx;
    this.idleMs = idleMs;
    String address = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    NetClientOptions options = new NetClientOptions().setConnectTimeout((int) connectTimeoutMs).setTcpNoDelay(true)
        .setSsl(tls).setMetricsName("ollama");
    this.target = new ConnectOptions().setHost(address).setPort(port).setSsl(tls);
    if (tls) {
      options.setHostnameVerificationAlgorithm("HTTPS").setTrustOptions(trust);
      if (address.chars().anyMatch(Character::isLetter) && !address.contains(":")) {
        target.setSniServerName(address);
      }
    }
    this.client = vertx.createNetClient(options);
  }

  /** An idle connection of the calling event loop, or a new one. */
  Future<OllamaConnection> acquire() {
    ArrayDeque<OllamaConnection> idle = idleStack();
    OllamaConnection top;
    while ((top = idle.pollFirst()) != null) {
      top.lent();
      if (!top.closed()) {
        return top.ready();
      }
    }
    return connect();
  }

  /** A new connection, for the calling event loop. */
  Future<OllamaConnection> connect() {
    return client.connect(target).transform(connected -> {
      if (connected.failed()) {
        stats.countConnectFailure();
        return Future.failedFuture(connected.cause());
      }
      stats.countOpened();
      return Future.succeededFuture(new OllamaConnection((NetSocketInternal) connected.result(), this));
    });
  }

  /** An answer ended and left {@code c} fit for the next request: it waits on its loop's stack. */
  void giveBack(OllamaConnection c) {
    idleStack().push(c);
    LoopSweep.current(vertx, SWEEP, idleMs / 10).enter(c);
  }

  /** {@code c} is closing: it leaves its loop's stack if it was idle there. */
  void forget(OllamaConnection c) {
    idleStack().remove(c);
  }

  /** {@code c} has closed; {@code closedBy} is why this node closed it, null if Ollama or the network did. */
  void closed(OllamaConnection c, CloseReason closedBy) {
    forget(c);
    stats.countClosed(shuttingDown ? CloseReason.SHUTDOWN : closedBy == null ? CloseReason.OLLAMA : closedBy);
  }

  OllamaConnectionStats stats() {
    return stats;
  }

  long idleNanos() {
    return idleMs * 1_000_000;
  }

  Future<Void> close() {
    shuttingDown = true;
    return client.close();
  }

  private ArrayDeque<OllamaConnection> idleStack() {
    Context context = vertx.getOrCreateContext();
    ArrayDeque<OllamaConnection> idle = context.get(IDLE);
    if (idle == null) {
      idle = new ArrayDeque<>();
      context.put(IDLE, idle);
    }
    return idle;
  }
}
