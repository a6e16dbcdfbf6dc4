package io.hivemesh.mesh;

import io.hivemesh.security.TlsConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries Hazelcast's member traffic inside mutual TLS, which the open-source Hazelcast cannot do
 * itself. Every node's Hazelcast binds a loopback address of its own, derived from the node's public
 * mesh endpoint ({@code 127.x.y.z}, all routed to loopback on Linux), and advertises it. On every
 * other host, a forwarder listens on that loopback address and carries each connection over TLS to
 * the node's public mesh port, where it is handed to the local Hazelcast. So Hazelcast bytes never
 * leave a host in the clear, and only holders of a mesh-CA certificate reach a member port at all.
 *
 * <p>Nodes learn each other's endpoints by greeting: a joining node greets its seeds and then every
 * endpoint they know, so every member has a forwarder for it before Hazelcast tries to connect.
 * Nodes on the same host reach each other's loopback address directly and need no forwarder.
 */
public final class ClusterTunnel {

  private static final Logger log = LoggerFactory.getLogger(ClusterTunnel.class);
  /** The first line of a tunnel connection; anything longer is not a peer. */
  private static final int MAX_HEADER = 4096;
  private static final long HEADER_TIMEOUT_MS = 5000;
  private static final int IDLE_TIMEOUT_S = 60;

  private final Vertx vertx;
  private final String self;
  private final String selfMember;
  private final TlsConfig tls;
  /** TLS to peers' mesh ports. */
  private final NetClient client;
  /** Plain, to our own Hazelcast on loopback. */
  private final NetClient local;
  private final Map<String, Peer> peers = new ConcurrentHashMap<>();
  private final Set<String> localAddresses;
  private NetServer meshPort;

  private record Peer(String endpoint, NetServer forwarder) {
  }

  /**
   * @param vertx     a Vert.x of the tunnel's own, closed with it: it runs before the node's
   *                  clustered one exists and outlives it, so that the node can leave cleanly
   * @param endpoint  this node's public mesh endpoint, {@code host:port}
   */
  public ClusterTunnel(Vertx vertx, TlsConfig tls, String endpoint, int connectTimeoutMs) {
    this.vertx = vertx;
    this.self = endpoint;
    this.selfMember = memberAddress(endpoint);
    this.client = vertx.createNetClient(MeshTls.client(new NetClientOptions(), tls)
        .setConnectTimeout(connectTimeoutMs).setIdleTimeout(IDLE_TIMEOUT_S).setTcpKeepAlive(true).setTcpNoDelay(true));
    this.local = vertx.createNetClient(new NetClientOptions().setConnectTimeout(connectTimeoutMs).setTcpNoDelay(true));
    this.localAddresses = localAddresses();
    this.tls = tls;
  }

  /** The loopback address Hazelcast binds for the node whose public mesh endpoint is {@code endpoint}. */
  public static String loopback(String endpoint) {
    int h = endpoint.toLowerCase().hashCode() & 0x7fffffff;
    // 127.1.0.1 .. 127.254.255.254: never 127.0.0.x, never a broadcast-looking .255 or .0.
    return "127." + (1 + h % 254) + "." + ((h >>> 8) & 0xff) + "." + (1 + ((h >>> 16) % 254));
  }

  /** Hazelcast's {@code host:port} for the node at {@code endpoint}. */
  public static String memberAddress(String endpoint) {
    return loopback(endpoint) + ":" + port(endpoint);
  }

  public String selfLoopback() {
    return loopback(self);
  }

  /** Opens the public mesh port, forwarders to the seeds, and greets the mesh. Never fails on a peer. */
  public Future<Void> start(List<String> seeds) {
    String host = self.substring(0, self.lastIndexOf(':'));
    NetServerOptions options = MeshTls.server(new NetServerOptions(), tls).setHost(host).setPort(port(self))
        .setIdleTimeout(IDLE_TIMEOUT_S).setTcpKeepAlive(true).setTcpNoDelay(true);
    meshPort = vertx.createNetServer(options).connectHandler(this::accept);
    return meshPort.listen().<Void>mapEmpty()
        .compose(v -> {
          seeds.forEach(this::know);
          return greetAll();
        });
  }

  /** Hazelcast's seed list: the member addresses of the seeds and of every peer greeted. */
  public List<String> members() {
    List<String> out = new ArrayList<>();
    peers.keySet().forEach(p -> out.add(memberAddress(p)));
    return out;
  }

  /** Called when Hazelcast reports a member: one we have no route to makes us ask the mesh again. */
  public void memberSeen(String hazelcastAddress) {
    if (!hazelcastAddress.equals(selfMember)
        && peers.keySet().stream().noneMatch(p -> memberAddress(p).equals(hazelcastAddress))) {
      greetAll();
    }
  }

  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    if (meshPort != null) {
      closing.add(meshPort.close());
    }
    peers.values().forEach(p -> {
      if (p.forwarder() != null) {
        closing.add(p.forwarder().close());
      }
    });
    return Future.join(closing).eventually(client::close).eventually(local::close).eventually(vertx::close)
        .mapEmpty();
  }

  private Future<Void> greetAll() {
    List<Future<Void>> greetings = new ArrayList<>();
    for (String endpoint : List.copyOf(peers.keySet())) {
      greetings.add(greet(endpoint));
    }
    return Future.join(greetings).recover(err -> Future.succeededFuture()).mapEmpty();
  }

  /** Tells {@code endpoint} about us and what we know, and learns what it knows; new peers are greeted in turn. */
  private Future<Void> greet(String endpoint) {
    JsonObject hello = new JsonObject().put("hello", self).put("known", new JsonArray(List.copyOf(peers.keySet())));
    return exchange(endpoint, hello)
        .compose(reply -> {
          List<Future<Void>> more = new ArrayList<>();
          for (Object e : reply.getJsonArray("known", new JsonArray())) {
            if (know(String.valueOf(e))) {
              more.add(greet(String.valueOf(e)));
            }
          }
          return Future.join(more).<Void>mapEmpty();
        })
        .onFailure(err -> log.warn("cluster tunnel: could not greet {}: {}", endpoint, describe(err)))
        .recover(err -> Future.<Void>succeededFuture());
  }

  private Future<JsonObject> exchange(String endpoint, JsonObject request) {
    Promise<JsonObject> reply = Promise.promise();
    client.connect(port(endpoint), host(endpoint)).onComplete(ar -> {
      if (ar.failed()) {
        reply.fail(ar.cause());
        return;
      }
      NetSocket socket = ar.result();
      readHeader(socket, (line, rest) -> {
        socket.close();
        try {
          reply.tryComplete(new JsonObject(line.toString(StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          reply.tryFail("not a mesh node");
        }
      }, () -> reply.tryFail("closed without an answer"));
      socket.write(request.toBuffer().appendString("\n"));
    });
    return reply.future();
  }

  /**
   * Adds a peer and, if it lives on another host, its forwarder; true if it was new. Greetings and
   * Hazelcast's membership events call this from different threads: one forwarder per peer.
   */
  private synchronized boolean know(String endpoint) {
    if (endpoint.equals(self) || peers.containsKey(endpoint) || !validEndpoint(endpoint)) {
      return false;
    }
    String member = memberAddress(endpoint);
    if (member.equals(selfMember)) {
      log.error("cluster tunnel: {} and this node {} map to the same loopback address {}; change a --cluster-port",
          endpoint, self, member);
      return false;
    }
    NetServer forwarder = null;
    if (!localAddresses.contains(host(endpoint))) {
      forwarder = vertx.createNetServer(new NetServerOptions().setHost(loopback(endpoint)).setPort(port(endpoint))
          .setTcpNoDelay(true)).connectHandler(local -> forward(local, endpoint, member));
      NetServer f = forwarder;
      forwarder.listen().onFailure(err -> {
        log.error("cluster tunnel: cannot listen on {} for {}: {}", member, endpoint, describe(err));
        peers.remove(endpoint, new Peer(endpoint, f));
      });
    }
    peers.put(endpoint, new Peer(endpoint, forwarder));
    return true;
  }

  /** Our Hazelcast connects to a peer's loopback address: carry it over TLS to the peer's mesh port. */
  private void forward(NetSocket socket, String endpoint, String member) {
    socket.pause();
    client.connect(port(endpoint), host(endpoint)).onComplete(ar -> {
      if (ar.failed()) {
        log.debug("cluster tunnel: {} unreachable: {}", endpoint, describe(ar.cause()));
        socket.close();
        return;
      }
      NetSocket remote = ar.result();
      remote.write(new JsonObject().put("connect", member).toBuffer().appendString("\n"));
      splice(socket, remote);
    });
  }

  /** A peer's connection on our public mesh port: a greeting, or a tunnel to our Hazelcast. */
  private void accept(NetSocket socket) {
    socket.exceptionHandler(err -> socket.close());
    readHeader(socket, (line, rest) -> {
      JsonObject header;
      try {
        header = new JsonObject(line.toString(StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        socket.close();
        return;
      }
      if (header.getValue("hello") instanceof String endpoint) {
        boolean fresh = know(endpoint);
        for (Object e : header.getJsonArray("known", new JsonArray())) {
          fresh |= know(String.valueOf(e));
        }
        JsonArray known = new JsonArray(List.copyOf(peers.keySet()));
        socket.end(new JsonObject().put("known", known).toBuffer().appendString("\n"));
        if (fresh) {
          greetAll();
        }
      } else if (selfMember.equals(header.getString("connect"))) {
        // Only ever to our own Hazelcast: the mesh port is not a general-purpose relay.
        local.connect(port(self), loopback(self)).onComplete(ar -> {
          if (ar.failed()) {
            socket.close();
          } else {
            ar.result().write(rest);
            splice(socket, ar.result());
          }
        });
      } else {
        socket.close();
      }
    }, socket::close);
  }

  /**
   * Reads the first line, within a size and time limit, and hands it over with the socket paused
   * and the bytes read past it, which belong to what follows.
   */
  private void readHeader(NetSocket socket, BiConsumer<Buffer, Buffer> onLine, Runnable onFail) {
    Buffer pending = Buffer.buffer();
    long timer = vertx.setTimer(HEADER_TIMEOUT_MS, id -> {
      socket.close();
      onFail.run();
    });
    socket.closeHandler(v -> {
      if (vertx.cancelTimer(timer)) {
        onFail.run();
      }
    });
    socket.handler(chunk -> {
      pending.appendBuffer(chunk);
      int nl = indexOf(pending, (byte) '\n');
      if (nl < 0) {
        if (pending.length() > MAX_HEADER && vertx.cancelTimer(timer)) {
          socket.close();
          onFail.run();
        }
        return;
      }
      vertx.cancelTimer(timer);
      socket.pause();
      socket.handler(null);
      socket.closeHandler(null);
      onLine.accept(pending.getBuffer(0, nl), pending.getBuffer(nl + 1, pending.length()));
    });
  }

  /** Pipes both ways until either side closes. */
  private static void splice(NetSocket a, NetSocket b) {
    a.pipeTo(b);
    b.pipeTo(a);
  }

  private static int indexOf(Buffer b, byte value) {
    for (int i = 0; i < b.length(); i++) {
      if (b.getByte(i) == value) {
        return i;
      }
    }
    return -1;
  }

  private static boolean validEndpoint(String endpoint) {
    int colon = endpoint.lastIndexOf(':');
    if (colon <= 0) {
      return false;
    }
    try {
      int p = Integer.parseInt(endpoint.substring(colon + 1));
      return p > 0 && p < 65536;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String host(String endpoint) {
    return endpoint.substring(0, endpoint.lastIndexOf(':'));
  }

  private static int port(String endpoint) {
    return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
  }

  private static Set<String> localAddresses() {
    Set<String> out = ConcurrentHashMap.newKeySet();
    out.add("localhost");
    try {
      for (NetworkInterface nic : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : java.util.Collections.list(nic.getInetAddresses())) {
          out.add(a.getHostAddress().replaceAll("%.*$", ""));
        }
      }
    } catch (SocketException e) {
      log.warn("cluster tunnel: cannot list this host's addresses ({}); forwarding to every peer", e.getMessage());
    }
    return out;
  }

  static String describe(Throwable err) {
    boolean tls = false;
    Throwable t = err;
    while (true) {
      tls |= t instanceof javax.net.ssl.SSLException;
      if (t.getCause() == null || t.getCause() == t) {
        break;
      }
      t = t.getCause();
    }
    String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return tls ? "TLS handshake failed (" + msg + "): are both nodes' certificates signed by the same mesh CA?" : msg;
  }

}
