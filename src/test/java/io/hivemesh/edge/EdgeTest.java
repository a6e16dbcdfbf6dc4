package io.hivemesh.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edge attached to a two-node mesh in this JVM, everything real: clustered nodes with token
 * checks, the edge's own emulated Ollama, the edge dialling node a over a WebSocket.
 */
class EdgeTest {

  private static final String GEMMA = "gemma2";

  @TempDir
  static Path dir;
  static TestMesh mesh;
  static Vertx vertx;
  static TokenMinter minter;
  static OllamaSim edgeSim;
  static EdgeAgent edge;
  static String client;
  static String edgeToken;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Path secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    minter = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret));
    client = token("alice", "inference models:read admin");
    edgeToken = token("lab-box", "edge");
    mesh = new TestMesh();
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(32).withTokensPerSecond(200);
    // All of the edge's streams meet on one event loop of node a: on a starved CI machine (2 shared
    // cores) its open acks can take longer than the default 500 ms.
    String[] auth = {"--jwt-secret-file", secret.toString(), "--connect-timeout", "2s"};
    mesh.add("a", sim.withModels("llama3.2"), auth);
    mesh.add("b", sim.withModels("mistral"), auth);
    mesh.awaitConverged();
    edgeSim = TestMesh.await(OllamaSim.start(mesh.simVertx, sim.withName("lab-box").withPort(0).withModels(GEMMA)));
    edge = startEdge();
    awaitEdgeLive(Duration.ofSeconds(30));
  }

  private static EdgeAgent startEdge() {
    return TestMesh.await(EdgeAgent.start(EdgeConfig.parse(new String[] {"--name", "lab-box", "--ollama", edgeSim.url(),
        "--connect", "ws://127.0.0.1:" + mesh.port("a"), "--token", edgeToken, "--inventory-interval", "200ms",
        "--max-inflight", "64"}, Map.of())));
  }

  @AfterAll
  static void stop() {
    if (edge != null) {
      TestMesh.await(edge.close());
    }
    mesh.close();
    TestMesh.await(vertx.close());
  }

  private static String token(String sub, String scope) {
    return minter.mint(new TokenGrant(sub, scope, List.of(), null, null, null, null, Duration.ofHours(1)));
  }

  private static void awaitEdgeLive(Duration timeout) {
    TestMesh.awaitTrue("every node serves the edge's site", timeout,
        () -> mesh.nodes.values().stream().allMatch(n -> n.view().isLive("lab-box")));
  }

  private static String[] auth() {
    return new String[] {"Authorization", "Bearer " + client};
  }

  private static String generate(String model, int tokens) {
    return new JsonObject().put("model", model).put("prompt", "hello")
        .put("options", new JsonObject().put("num_predict", tokens)).encode();
  }

  @Test
  void theEdgesModelsAreListedAndStreamedThroughEveryNode() {
    for (String node : mesh.nodes.keySet()) {
      HttpResponse<String> tags = Http.get(mesh.port(node), "/api/tags", auth());
      assertEquals(200, tags.statusCode());
      assertTrue(tags.body().contains("\"gemma2:latest\""), node + " lists the edge's model: " + tags.body());
      HttpResponse<java.util.stream.Stream<String>> answer = Http.stream(mesh.port(node), "/api/generate",
          generate(GEMMA, 20), auth());
      assertEquals(200, answer.statusCode());
      assertEquals("lab-box", answer.headers().firstValue("X-Hive-Node").orElse(null));
      List<String> lines = answer.body().toList();
      assertTrue(lines.size() > 2, "streamed line by line: " + lines);
      assertTrue(new JsonObject(lines.get(lines.size() - 1)).getBoolean("done"), lines.get(lines.size() - 1));
    }
    JsonObject nodes = new JsonObject(Http.get(mesh.port("b"), "/hive/nodes", auth()).body());
    JsonObject site = nodes.getJsonArray("nodes").stream().map(JsonObject.class::cast)
        .filter(n -> n.getString("name").equals("lab-box")).findFirst().orElseThrow();
    assertEquals("a", site.getString("via"), "marked as reached through the node it dialled: " + site);
    assertEquals(URI.create("ws://127.0.0.1:" + mesh.port("a")), edge.attachedTo());
  }

  @Test
  void xHiveNodeNamesTheEdge() {
    HttpResponse<String> pinned = Http.post(mesh.port("b"), "/api/generate",
        new JsonObject().put("model", GEMMA).put("prompt", "hi").put("stream", false).encode(),
        "Authorization", "Bearer " + client, "X-Hive-Node", "lab-box");
    assertEquals(200, pinned.statusCode(), pinned.body());
    assertEquals("lab-box", pinned.headers().firstValue("X-Hive-Node").orElse(null));
    HttpResponse<String> elsewhere = Http.post(mesh.port("b"), "/api/generate",
        new JsonObject().put("model", "mistral").put("prompt", "hi").put("stream", false).encode(),
        "Authorization", "Bearer " + client, "X-Hive-Node", "lab-box");
    assertEquals(404, elsewhere.statusCode(), "the edge does not hold mistral: " + elsewhere.body());
  }

  /**
   * One client stops reading a long answer; 24 other streams over the same connection still
   * finish meanwhile. Once read again, the stalled answer continues intact, and hanging up on it
   * cancels it at the edge's Ollama.
   */
  @Test
  void manyStreamsShareTheLinkAndASlowReaderStallsOnlyItsOwn() throws Exception {
    int port = mesh.port("b");
    String slowBody = generate(GEMMA, 100_000);
    long canceledBefore = edgeSim.stats().canceled();
    try (Socket slow = new Socket("127.0.0.1", port)) {
      slow.setReceiveBufferSize(4096);
      OutputStream out = slow.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + client
          + "\r\nContent-Type: application/json\r\nContent-Length: " + slowBody.length() + "\r\n\r\n" + slowBody)
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      TestMesh.awaitTrue("the slow answer runs at the edge", Duration.ofSeconds(10), () -> edgeSim.stats().active() >= 1);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<List<String>>> others = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
          String via = i % 2 == 0 ? "a" : "b";
          others.add(pool.submit(() -> Http.stream(mesh.port(via), "/api/generate", generate(GEMMA, 30), auth())
              .body().toList()));
        }
        for (Future<List<String>> f : others) {
          List<String> lines = f.get(60, TimeUnit.SECONDS);
          assertEquals(31, lines.size(), "every other stream ends whole: " + lines);
          assertTrue(new JsonObject(lines.get(30)).getBoolean("done"));
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(canceledBefore, edgeSim.stats().canceled());
      // Read the stalled answer again: it goes on where it stood, token after token.
      java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(slow.getInputStream()));
      while (!readLine(in).isEmpty()) {
        // status line and headers
      }
      StringBuilder text = new StringBuilder();
      int tokens = 0;
      while (tokens < 500) {
        int size = Integer.parseInt(readLine(in).trim(), 16);
        byte[] chunk = new byte[size];
        in.readFully(chunk);
        readLine(in);
        text.append(new String(chunk, StandardCharsets.UTF_8));
        int nl;
        while ((nl = text.indexOf("\n")) >= 0) {
          JsonObject token = new JsonObject(text.substring(0, nl));
          text.delete(0, nl + 1);
          assertFalse(token.getBoolean("done"), "still under way: " + token);
          tokens++;
        }
      }
      assertTrue(tokens >= 500);
    }
    TestMesh.awaitTrue("hanging up cancelled the generation at the edge's Ollama", Duration.ofSeconds(10),
        () -> edgeSim.stats().canceled() == canceledBefore + 1);
  }

  private static String readLine(java.io.DataInputStream in) throws java.io.IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  @Test
  void aClientThatHangsUpCancelsTheGenerationAtTheEdge() throws Exception {
    long canceledBefore = edgeSim.stats().canceled();
    try (Socket s = new Socket("127.0.0.1", mesh.port("b"))) {
      String body = generate(GEMMA, 100_000);
      s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + client
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8));
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      int n = in.read(buf);
      assertTrue(n > 0 && new String(buf, 0, n, StandardCharsets.ISO_8859_1).contains("X-Hive-Node: lab-box"),
          "the answer started at the edge");
    }
    TestMesh.awaitTrue("the edge's Ollama saw the generation cancelled", Duration.ofSeconds(10),
        () -> edgeSim.stats().canceled() == canceledBefore + 1);
  }

  @Test
  void anAttachWithoutTheEdgeScopeOrForATakenNameIsRefusedBeforeTheUpgrade() {
    assertEquals(401, handshake("x1", null));
    assertEquals(403, handshake("x1", client), "a client token may not attach an edge");
    assertEquals(409, handshake("a", edgeToken), "a full node's name");
    assertEquals(409, handshake("lab-box", edgeToken), "an attached edge's name");
    assertEquals(400, handshake("bad name", edgeToken));
    assertFalse(mesh.nodes.values().stream().anyMatch(n -> n.view().state("x1") != null));
  }

  /** The status a WebSocket upgrade on node b got, or 101 if it was taken. */
  private static int handshake(String name, String token) {
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      WebSocket ws = b.buildAsync(URI.create("ws://127.0.0.1:" + mesh.port("b") + "/hive/edge?name="
          + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8)), new WebSocket.Listener() { }).join();
      ws.abort();
      return 101;
    } catch (CompletionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        return h.getResponse().statusCode();
      }
      throw e;
    }
  }

  /** The edge stops: every node drops its models within 2 s; a new edge process of that name comes back. */
  @Test
  void theEdgesModelsVanishWithin2sOfTheLossAndComeBackOnReconnect() {
    long lost = System.nanoTime();
    TestMesh.await(edge.close());
    TestMesh.awaitTrue("no node lists the edge's model", Duration.ofSeconds(2),
        () -> mesh.nodes.values().stream().noneMatch(n -> n.view().isLive("lab-box")));
    assertTrue(System.nanoTime() - lost < TimeUnit.SECONDS.toNanos(2));
    assertFalse(Http.get(mesh.port("b"), "/api/tags", auth()).body().contains(GEMMA));
    edge = startEdge();
    awaitEdgeLive(Duration.ofSeconds(15));
    HttpResponse<String> again = Http.post(mesh.port("b"), "/api/generate",
        new JsonObject().put("model", GEMMA).put("prompt", "hi").put("stream", false).encode(), auth());
    assertEquals(200, again.statusCode(), again.body());
  }
}
