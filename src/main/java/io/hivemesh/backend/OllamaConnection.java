package io.hivemesh.backend;

import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.relay.LoopSweep;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * One keep-alive HTTP/1.1 connection to this site's Ollama, carrying one exchange at a time: a
 * Vert.x socket with Netty's HTTP codec in its pipeline, so a request is one message written and
 * its answer a head, chunks and an end, with none of the Vert.x HTTP client's per-request objects
 * (request, response, stream, promise chain, pooled context). Confined to the event loop that
 * opened it; {@link OllamaConnections} lends it out.
 */
final class OllamaConnection extends LoopSweep.Entry {

  /** What the request a connection carries hears of its answer, on the connection's event loop. */
  interface Exchange {

    void head(HttpResponse head);

    void data(Buffer chunk);

    void end();

    /** The connection closed before the answer ended: before its head, or mid-body. */
    void closed();
  }

  /** Marks the end of an answer among the events held while paused. */
  private static final Object END = new Object();

  private final NetSocketInternal socket;
  private final OllamaConnections owner;
  /**
   * Events held while the exchange is paused. Vert.x holds whole messages itself once the socket is
   * paused (and stops reading past a few); this holds the rest of the message being delivered when
   * the pause came: a last chunk's data, then its end.
   */
  private final ArrayDeque<Object> held = new ArrayDeque<>(4);
  private final Future<OllamaConnection> ready = Future.succeededFuture(this);
  private Exchange exchange;
  private boolean informational;
  private boolean keepAlive;
  private boolean paused;
  private boolean closed;
  private boolean reused;
  private long idleSince;
  /** Why this node closed the connection; null while open, or when Ollama (or the network) closed it. */
  private CloseReason closedBy;

  OllamaConnection(NetSocketInternal socket, OllamaConnections owner) {
    this.socket = socket;
    this.owner = owner;
    socket.channelHandlerContext().pipeline().addBefore("handler", "http", new HttpClientCodec());
    socket.messageHandler(this::received);
    // A reset or a broken pipe is Ollama's (or the network's) doing; anything else is an error here.
    socket.exceptionHandler(err -> reset(err instanceof IOException ? CloseReason.OLLAMA : CloseReason.ERROR));
    socket.closeHandler(v -> {
      closed = true;
      held.clear();
      leave();
      owner.closed(this, closedBy);
      Exchange ex = exchange;
      if (ex != null) {
        exchange = null;
        ex.closed();
      }
    });
  }

  /** This connection, as an already completed future (lending an idle one allocates nothing). */
  Future<OllamaConnection> ready() {
    return ready;
  }

  /** Whether this connection carried an earlier request before the current one. */
  boolean reused() {
    return reused;
  }

  boolean closed() {
    return closed;
  }

  /** Sends a request; its answer goes to {@code to}. */
  void send(FullHttpRequest request, Exchange to) {
    if (closed) {
      request.release();
      to.closed();
      return;
    }
    exchange = to;
    informational = false;
    socket.writeMessage(request);
  }

  /** Stops delivering the answer (and reading the socket) until {@link #resume}. */
  void pause() {
    if (!paused) {
      paused = true;
      socket.pause();
    }
  }

  void resume() {
    if (!paused) {
      return;
    }
    paused = false;
    Object event;
    while (!paused && !closed && (event = held.poll()) != null) {
      deliver(event);
    }
    if (!paused && !closed) {
      socket.resume();
    }
  }

  /** Closes the connection: how Ollama learns that nobody wants the answer any more. */
  void reset(CloseReason why) {
    if (!closed) {
      closed = true;
      closedBy = why;
      held.clear();
      socket.close();
    }
  }

  /** Taken from the idle stack for a request. */
  void lent() {
    leave();
    reused = true;
  }

  @Override
  protected void check(long now) {
    if (now - idleSince >= owner.idleNanos()) {
      leave();
      owner.forget(this);
      reset(CloseReason.IDLE);
    }
  }

  private void received(Object msg) {
    if (closed || exchange == null || (msg instanceof HttpObject o && o.decoderResult().isFailure())) {
      // After a reset, bytes nobody asked for, or an answer that is not HTTP: the connection is done.
      ReferenceCountUtil.release(msg);
      reset(CloseReason.ERROR);
      return;
    }
    if (msg instanceof HttpResponse head) {
      enqueue(head);
    }
    if (msg instanceof HttpContent content) {
      ByteBuf bytes = content.content();
      if (bytes.isReadable()) {
        enqueue(BufferInternal.safeBuffer(bytes));
      } else {
        bytes.release();
      }
      if (msg instanceof LastHttpContent) {
        enqueue(END);
      }
    }
  }

  private void enqueue(Object event) {
    if (paused || !held.isEmpty()) {
      held.add(event);
    } else {
      deliver(event);
    }
  }

  private void deliver(Object event) {
    Exchange ex = exchange;
    if (ex == null) {
      return;
    }
    if (event instanceof HttpResponse head) {
      int status = head.status().code();
      // 100 Continue and other interim answers: the real head follows.
      informational = status >= 100 && status < 200 && status != 101;
      if (!informational) {
        keepAlive = HttpUtil.isKeepAlive(head);
        ex.head(head);
      }
    } else if (event == END) {
      if (informational) {
        informational = false;
        return;
      }
      exchange = null;
      if (keepAlive) {
        idleSince = System.nanoTime();
        owner.giveBack(this);
      } else {
        // The answer said it was the last on this connection.
        reset(CloseReason.OLLAMA);
      }
      ex.end();
    } else if (!informational) {
      ex.data((Buffer) event);
    }
  }
}
