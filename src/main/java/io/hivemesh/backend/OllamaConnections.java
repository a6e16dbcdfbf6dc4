package io.hivemesh.backend;

import io.hivemesh.relay.LoopSweep;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpVersion;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to this site's Ollama: one stack of idle connections per event loop,
 * the most recently used on top, each closed after {@code idleMs} unused.
 *
 * <p>Why not the Vert.x client's pool: the site admits at most {@code max-inflight} requests
 * ({@code LocalLoad}) and each holds one connection, so the pool's own bound and wait queue add
 * nothing, while its acquire builds a context, a promise chain and a pool task for every request.
 * Here a request takes the top of its loop's stack, or connects when the stack is empty.
 *
 * <p>A connection goes back on the stack only after an answer that ended cleanly and left it
 * reusable ({@link #reusable}); every other end closes it. Vert.x runs one request at a time on an
 * HTTP/1.1 connection: a request given a connection whose last exchange is still finishing waits
 * for it, it is never interleaved with it.
 */
final class OllamaConnections {

  private static final String IDLE = "hive.ollama-idle";
  private static final String SWEEP = "hive.ollama-idle-sweep";

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final HttpConnectOptions connect;
  private final long idleMs;

  OllamaConnections(Vertx vertx, HttpClientAgent client, HttpConnectOptions connect, long idleMs) {
    this.vertx = vertx;
    this.client = client;
    this.connect = connect;
    this.idleMs = idleMs;
  }

  /** An idle connection of the calling event loop, or a new one. */
  Future<Lease> acquire() {
    ArrayDeque<Lease> idle = idleStack();
    Lease top;
    while ((top = idle.pollFirst()) != null) {
      top.leave();
      if (!top.closed) {
        top.reused = true;
        return top.ready;
      }
    }
    return connect(idle);
  }

  /** A new connection, for the calling event loop. */
  Future<Lease> connect() {
    return connect(idleStack());
  }

  private Future<Lease> connect(ArrayDeque<Lease> idle) {
    return client.connect(connect).map(connection -> new Lease(connection, idle));
  }

  /**
   * Whether a request that failed with {@code failure} on a reused connection may go again on a
   * new one: Ollama closed the connection before answering, which is how an idle connection it
   * (or a proxy in front of it) had just closed fails the request sent on it. The same race every
   * keep-alive client has; Go's HTTP client retries it the same way.
   */
  static boolean closedBeforeAnswer(Throwable failure) {
    return failure instanceof HttpClosedException;
  }

  /** Whether the connection that carried {@code response} can carry another request. */
  static boolean reusable(HttpClientResponse response) {
    return response.version() == HttpVersion.HTTP_1_1 && !"close".equalsIgnoreCase(response.getHeader("connection"));
  }

  private ArrayDeque<Lease> idleStack() {
    Context context = vertx.getOrCreateContext();
    ArrayDeque<Lease> idle = context.get(IDLE);
    if (idle == null) {
      idle = new ArrayDeque<>();
      context.put(IDLE, idle);
    }
    return idle;
  }

  /** One connection: lent to one request at a time, else idle on the stack of the loop that opened it. */
  final class Lease extends LoopSweep.Entry {
    final HttpClientConnection connection;
    private final ArrayDeque<Lease> stack;
    private final Future<Lease> ready = Future.succeededFuture(this);
    private boolean closed;
    private boolean reused;
    private long idleSince;

    private Lease(HttpClientConnection connection, ArrayDeque<Lease> stack) {
      this.connection = connection;
      this.stack = stack;
      // Ollama (or a proxy in front of it) may close an idle connection: it then leaves the stack.
      connection.closeHandler(v -> {
        closed = true;
        if (stack.remove(this)) {
          leave();
        }
      });
      connection.exceptionHandler(err -> { });
    }

    /** Whether this connection carried an earlier request. */
    boolean reused() {
      return reused;
    }

    /** The request is over and the connection fit for the next; called on the connection's loop. */
    void recycle() {
      if (closed) {
        return;
      }
      idleSince = System.nanoTime();
      stack.push(this);
      LoopSweep.current(vertx, SWEEP, idleMs / 10).enter(this);
    }

    /** The request ended in a way that leaves the connection unfit: closed, never reused. */
    void discard() {
      if (!closed) {
        closed = true;
        connection.close();
      }
    }

    @Override
    protected void check(long now) {
      if (now - idleSince >= idleMs * 1_000_000) {
        leave();
        stack.remove(this);
        discard();
      }
    }
  }
}
