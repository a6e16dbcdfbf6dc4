package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The files {@code hive certs} writes are what Vert.x needs for mutual TLS, and nothing else gets in. */
@ExtendWith(VertxExtension.class)
class MeshTlsTest {

  @TempDir
  static Path mesh;
  @TempDir
  static Path otherMesh;
  /**
   * The test's client, held for as long as the test runs: Vert.x 5 shuts down a client nobody
   * references (its cleaner), and with it a connection still waiting for its echo.
   */
  private NetClient client;

  @BeforeAll
  static void issue() {
    MeshPki.create(mesh, List.of("a", "b"), List.of(), Duration.ofDays(1));
    MeshPki.create(otherMesh, List.of("b"), List.of(), Duration.ofDays(1));
  }

  private static PemKeyCertOptions identity(Path dir, String node) {
    return new PemKeyCertOptions().setCertPath(dir.resolve(node + ".crt").toString())
        .setKeyPath(dir.resolve(node + ".key").toString());
  }

  private static PemTrustOptions trust(Path dir) {
    return new PemTrustOptions().addCertPath(dir.resolve("ca.crt").toString());
  }

  /**
   * Node a's echo server: accepts only clients with a certificate from a's own CA. Vert.x hands
   * it a connection, and calls {@code onAccept}, only after the TLS handshake succeeded.
   */
  private static NetServer echoServer(Vertx vertx, Runnable onAccept) throws Exception {
    NetServerOptions options = new NetServerOptions().setSsl(true).setKeyCertOptions(identity(mesh, "a"))
        .setTrustOptions(trust(mesh)).setClientAuth(ClientAuth.REQUIRED);
    return vertx.createNetServer(options)
        .connectHandler(socket -> {
          onAccept.run();
          socket.handler(socket::write);
        })
        .listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get();
  }

  /** A client that checks the server's name against its certificate, as nodes will. */
  private static NetClientOptions client(Path dir, String node) {
    return new NetClientOptions().setSsl(true).setTrustAll(false).setHostnameVerificationAlgorithm("HTTPS")
        .setKeyCertOptions(identity(dir, node)).setTrustOptions(trust(mesh));
  }

  @Test
  void twoNodesOfOneMeshTalk(Vertx vertx, VertxTestContext test) throws Exception {
    NetServer server = echoServer(vertx, () -> { });
    client = vertx.createNetClient(client(mesh, "b"));
    client.connect(server.actualPort(), "127.0.0.1")
        .onComplete(test.succeeding(socket -> {
          socket.handler(data -> test.verify(() -> {
            assertEquals("hello a", data.toString());
            test.completeNow();
          }));
          socket.write(Buffer.buffer("hello a"));
        }));
  }

  @Test
  void aNodeOfAnotherMeshIsTurnedAway(Vertx vertx, VertxTestContext test) throws Exception {
    NetServer server = echoServer(vertx, () -> test.failNow("the server accepted a stranger"));
    // Under TLS 1.3 the client may finish its side of the handshake before the server rejects
    // its certificate: then the rejection shows as a close with no echo.
    client = vertx.createNetClient(client(otherMesh, "b"));
    client.connect(server.actualPort(), "127.0.0.1")
        .onComplete(ar -> {
          if (ar.failed()) {
            test.completeNow();
            return;
          }
          ar.result().handler(data -> test.failNow("echoed '" + data + "' to a stranger"));
          ar.result().closeHandler(v -> test.completeNow());
          ar.result().write(Buffer.buffer("let me in"));
        });
  }
}
