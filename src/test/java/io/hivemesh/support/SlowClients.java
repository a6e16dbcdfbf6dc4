package io.hivemesh.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A slowloris attack from one thread: thousands of non-blocking connections, a third never
 * writing, a third sending their request headers a byte at a time, a third sending complete
 * headers and then their body a byte at a time. It counts what the server does to them: closes,
 * and answers (a 408 starts with {@code HTTP/1.1 408}).
 */
public final class SlowClients implements AutoCloseable {

  public enum Kind { IDLE, HEADER_TRICKLE, BODY_TRICKLE }

  private static final byte[] HEADERS = ("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      + "X-Slow: " + "s".repeat(200) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BODY_HEAD = ("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

  private final Selector selector;
  private final Thread thread;
  private final InetSocketAddress target;
  private final InetSocketAddress source;
  private final long trickleIntervalNanos;
  private final List<Conn> conns = new ArrayList<>();
  private final Random random = new Random(1);
  private volatile int toOpen;
  private volatile boolean trickling = true;
  private volatile boolean running = true;
  private final AtomicInteger connected = new AtomicInteger();
  private final AtomicInteger closedByServer = new AtomicInteger();
  private final AtomicInteger answered408 = new AtomicInteger();
  private final AtomicInteger failedToConnect = new AtomicInteger();

  private final class Conn {
    final SocketChannel ch;
    final Kind kind;
    long nextWrite;
    int sent;
    boolean open = true;
    long connectedAt;
    long closedAt;
    final ByteBuffer in = ByteBuffer.allocate(512);

    Conn(SocketChannel ch, Kind kind) {
      this.ch = ch;
      this.kind = kind;
    }
  }

  /** Connections come from {@code source} (another loopback address), so they use ports of their own. */
  public SlowClients(InetSocketAddress target, InetSocketAddress source, long trickleIntervalMillis) throws IOException {
    this.selector = Selector.open();
    this.target = target;
    this.source = source;
    this.trickleIntervalNanos = trickleIntervalMillis * 1_000_000L;
    this.thread = new Thread(this::run, "slowloris");
    thread.setDaemon(true);
    thread.start();
  }

  /** Opens {@code n} more connections, spread over the three kinds. */
  public void open(int n) {
    toOpen += n;
    selector.wakeup();
  }

  /** Stops writing: from now on every connection is an idle one, waiting for the server to act. */
  public void stopTrickling() {
    trickling = false;
  }

  public int connected() {
    return connected.get();
  }

  public int closedByServer() {
    return closedByServer.get();
  }

  public int answered408() {
    return answered408.get();
  }

  public int failedToConnect() {
    return failedToConnect.get();
  }

  /** Connections the server has not closed yet. */
  public int held() {
    return connected.get() - closedByServer.get();
  }

  private void run() {
    try {
      while (running) {
        openPending();
        selector.select(50);
        for (SelectionKey key : selector.selectedKeys()) {
          Conn c = (Conn) key.attachment();
          try {
            if (key.isConnectable() && c.ch.finishConnect()) {
              c.connectedAt = System.nanoTime();
              c.nextWrite = c.connectedAt + (long) (random.nextDouble() * trickleIntervalNanos);
              connected.incrementAndGet();
              key.interestOps(SelectionKey.OP_READ);
            } else if (key.isReadable()) {
              read(c, key);
            }
          } catch (IOException e) {
            lost(c, key);
          }
        }
        selector.selectedKeys().clear();
        if (trickling) {
          trickle();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void openPending() throws IOException {
    int batch = Math.min(toOpen, 500);
    for (int i = 0; i < batch; i++) {
      SocketChannel ch = SocketChannel.open();
      ch.configureBlocking(false);
      ch.bind(source);
      Conn c = new Conn(ch, Kind.values()[conns.size() % 3]);
      conns.add(c);
      try {
        ch.connect(target);
        ch.register(selector, SelectionKey.OP_CONNECT, c);
      } catch (IOException e) {
        failedToConnect.incrementAndGet();
        c.open = false;
        ch.close();
      }
    }
    toOpen -= batch;
  }

  private void read(Conn c, SelectionKey key) throws IOException {
    c.in.clear();
    int n = c.ch.read(c.in);
    if (n < 0) {
      lost(c, key);
    } else if (n > 0 && new String(c.in.array(), 0, Math.min(n, 12), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 408")) {
      answered408.incrementAndGet();
    }
  }

  private void lost(Conn c, SelectionKey key) throws IOException {
    if (c.open) {
      c.open = false;
      c.closedAt = System.nanoTime();
      if (c.connectedAt == 0) {
        failedToConnect.incrementAndGet();
      } else {
        closedByServer.incrementAndGet();
      }
      key.cancel();
      c.ch.close();
    }
  }

  private void trickle() {
    long now = System.nanoTime();
    for (Conn c : conns) {
      if (!c.open || c.connectedAt == 0 || c.kind == Kind.IDLE || now < c.nextWrite) {
        continue;
      }
      try {
        if (c.kind == Kind.BODY_TRICKLE && c.sent == 0) {
          c.ch.write(ByteBuffer.wrap(BODY_HEAD));
          c.sent = 1;
        } else if (c.kind == Kind.HEADER_TRICKLE && c.sent < HEADERS.length) {
          c.ch.write(ByteBuffer.wrap(HEADERS, c.sent, 1));
          c.sent++;
        } else if (c.kind == Kind.BODY_TRICKLE && c.sent < 1000) {
          c.ch.write(ByteBuffer.wrap(new byte[] {' '}));
          c.sent++;
        }
      } catch (IOException e) {
        // The server closed it; the read side reports it.
      }
      c.nextWrite = now + trickleIntervalNanos;
    }
  }

  /** Seconds from connect to the server's close, of connections of one kind that it closed; after {@link #close}. */
  public List<Double> closeDelaysSeconds(Kind kind) {
    if (thread.isAlive()) {
      throw new IllegalStateException("close() first: the connections belong to the client thread until then");
    }
    List<Double> out = new ArrayList<>();
    for (Conn c : conns) {
      if (c.kind == kind && !c.open && c.connectedAt != 0 && c.closedAt != 0) {
        out.add((c.closedAt - c.connectedAt) / 1e9);
      }
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    running = false;
    selector.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Conn c : conns) {
      c.ch.close();
    }
    selector.close();
  }
}
