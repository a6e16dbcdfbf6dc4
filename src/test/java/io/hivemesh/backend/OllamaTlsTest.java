package io.hivemesh.backend;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.security.MeshPki;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site whose Ollama speaks HTTPS (behind a TLS proxy, say): its relays and its inventory polls
 * go over TLS, verified against {@code --ollama-ca} with the URL's host name checked, and an
 * Ollama whose certificate fails either check gets no request at all.
 */
class OllamaTlsTest {

  @TempDir
  static Path pki;

  private Vertx vertx;
  /** The event loop the relays run on: connections are kept per loop. */
  private Context loop;
  private HttpServer ollama;
  private final List<OllamaBackend> backends = new ArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final Set<Object> connections = ConcurrentHashMap.newKeySet();
  /** The server names the requests' TLS handshakes indicated (SNI). */
  private final Set<String> serverNames = ConcurrentHashMap.newKeySet();
  private final AtomicInteger plaintext = new AtomicInteger();

  @BeforeAll
  static void issueOllamasCertificate() {
    // Names in it: "ollama", "localhost" and 127.0.0.1.
    MeshPki.create(pki, List.of("ollama"), List.of(), Duration.ofDays(1));
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    loop = vertx.getOrCreateContext();
  }

  @AfterEach
  void stop() {
    backends.forEach(b -> await(b.close()));
    await(vertx.close());
  }

  /** An HTTPS stand-in Ollama on {@code host} with the certificate issued above. */
  private int startOllama(String host) {
    ollama = await(vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
            .setKeyCertOptions(new PemKeyCertOptions().setCertPath(pki.resolve("ollama.crt").toString())
                .setKeyPath(pki.resolve("ollama.key").toString())))
        .requestHandler(req -> req.body().onSuccess(body -> {
          requests.incrementAndGet();
          connections.add(req.connection());
          if (!req.isSSL()) {
            plaintext.incrementAndGet();
          }
          String sni = req.connection().indicatedServerName();
          serverNames.add(sni == null ? "(none)" : sni);
          req.response().putHeader("content-type", "application/json").end(switch (req.path()) {
            case "/api/tags" -> "{\"models\":[{\"name\":\"m:latest\",\"model\":\"m:latest\",\"size\":1}]}";
            case "/api/ps" -> "{\"models\":[]}";
            case "/api/version" -> "{\"version\":\"0.5.7\"}";
            default -> "{\"model\":\"m\",\"response\":\"hi\",\"done\":true}";
          });
        }))
        .listen(0, host));
    return ollama.actualPort();
  }

  private NodeConfig config(String ollamaUrl, String... more) {
    List<String> args = new ArrayList<>(List.of("--name", "site", "--ollama", ollamaUrl, "--insecure-no-auth"));
    args.addAll(List.of(more));
    return NodeConfig.parse(args.toArray(String[]::new), Map.of());
  }

  private OllamaBackend backend(NodeConfig config) {
    OllamaBackend backend = new OllamaBackend(vertx, config, new LocalLoad(config.maxInflight()));
    backends.add(backend);
    return backend;
  }

  /** One answer relayed to its end on an event loop: its status, or the relay's failure. */
  private Future<Integer> relay(OllamaBackend backend) {
    return RelayToEnd.relay(loop, backend, "/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation());
  }

  private RelayException refusal(OllamaBackend backend) {
    Future<Integer> relayed = relay(backend);
    await(relayed.otherwiseEmpty());
    assertTrue(relayed.failed(), "the relay was refused");
    assertTrue(relayed.cause() instanceof RelayException, "a relay failure: " + relayed.cause());
    return (RelayException) relayed.cause();
  }

  @Test
  void relaysGoOverTlsToTheUrlsHostVerifiedAgainstTheGivenCa() {
    int port = startOllama("127.0.0.1");
    OllamaBackend backend = backend(config("https://localhost:" + port, "--ollama-ca",
        pki.resolve("ca.crt").toString()));
    for (int i = 0; i < 3; i++) {
      assertEquals(200, await(relay(backend)));
    }
    assertEquals(3, requests.get());
    assertEquals(0, plaintext.get());
    assertEquals(Set.of("localhost"), serverNames, "the handshake names the URL's host");
    assertEquals(1, connections.size(), "one TLS connection, kept and reused");
  }

  @Test
  void anOllamaWhoseCertificateNoTrustedCaSignedGetsNoRequest() {
    int port = startOllama("127.0.0.1");
    // Without --ollama-ca the JVM's trusted CAs decide, and none of them signed this certificate.
    RelayException refused = refusal(backend(config("https://localhost:" + port)));
    assertEquals(502, refused.status());
    assertTrue(refused.getMessage().startsWith("site 'site': "), refused.getMessage());
    assertEquals(0, requests.get());
  }

  @Test
  void anOllamaWhoseCertificateNamesAnotherHostGetsNoRequest() {
    // The certificate names localhost and 127.0.0.1; the URL says 127.0.0.2.
    int port = startOllama("127.0.0.2");
    RelayException refused = refusal(backend(config("https://127.0.0.2:" + port, "--ollama-ca",
        pki.resolve("ca.crt").toString())));
    assertEquals(502, refused.status());
    assertEquals(0, requests.get());
  }

  @Test
  void theInventoryIsPolledOverTlsWithTheSameTrust() {
    int port = startOllama("127.0.0.1");
    InventoryPoller trusted = new InventoryPoller(vertx, config("https://localhost:" + port, "--ollama-ca",
        pki.resolve("ca.crt").toString()), p -> { });
    await(trusted.start().otherwiseEmpty());
    // A poll that misses its deadline (a cold JVM's first handshake) is followed by the next one.
    awaitTrue("polled through TLS", Duration.ofSeconds(10), trusted::healthy);
    assertEquals(List.of("m:latest"), trusted.inventory().tags().stream().map(t -> t.getString("name")).toList());
    await(trusted.close());

    int seen = requests.get();
    InventoryPoller untrusted = new InventoryPoller(vertx, config("https://localhost:" + port), p -> { });
    await(untrusted.start().otherwiseEmpty());
    assertFalse(untrusted.healthy(), "an Ollama it cannot verify is not healthy");
    assertEquals(seen, requests.get());
    await(untrusted.close());
  }
}
