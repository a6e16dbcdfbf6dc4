package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.MeshPki;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Https;
import io.hivemesh.support.LogCapture;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes with everything on: client tokens (HS256, issuer and audience checked), HTTPS on the
 * client port, mutual TLS between nodes. What a client with a bad, narrow or greedy token sees.
 */
class SecurityTest {

  private static final String ISSUER = "hive-test";
  private static final String AUDIENCE = "hive";
  private static final String GENERATE = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";

  @TempDir
  static Path dir;
  static TestMesh mesh;
  static LogCapture logs;
  static Vertx vertx;
  static TokenMinter minter;
  static Https https;
  static Path secret;
  static int busPortOfA;
  /** Every token a test used: none may show up in a log. */
  static final List<String> tokens = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startMesh() throws Exception {
    logs = LogCapture.attach();
    vertx = Vertx.vertx();
    MeshPki.create(dir.resolve("pki"), List.of("a", "b", "c"), List.of(), Duration.ofDays(1));
    secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    minter = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret));
    https = new Https(dir.resolve("pki/ca.crt"));
    mesh = new TestMesh();
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(16).withTokensPerSecond(50);
    busPortOfA = TestMesh.freePort();
    List<String> argsOfA = new ArrayList<>(List.of(args("a")));
    argsOfA.addAll(List.of("--bus-port", String.valueOf(busPortOfA)));
    mesh.add("a", sim.withModels("llama3.2", "phi3"), argsOfA.toArray(String[]::new));
    mesh.add("b", sim.withModels("mistral"), args("b"));
    mesh.add("c", sim.withModels("nomic-embed-text"), args("c"));
    mesh.awaitConverged();
  }

  private static String[] args(String node) {
    Path pki = dir.resolve("pki");
    return new String[] {"--jwt-secret-file", secret.toString(), "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
        "--tls-cert", pki.resolve(node + ".crt").toString(), "--tls-key", pki.resolve(node + ".key").toString(),
        "--mesh-ca", pki.resolve("ca.crt").toString(), "--mesh-cert", pki.resolve(node + ".crt").toString(),
        "--mesh-key", pki.resolve(node + ".key").toString()};
  }

  @AfterAll
  static void stopMesh() {
    mesh.close();
    TestMesh.await(vertx.close());
    logs.close();
    String secretText = KeyFiles.hmacSecret("secret", secret).toString();
    for (String line : logs.lines()) {
      for (String token : tokens) {
        assertFalse(line.contains(token), "a log line holds a token: " + line);
        // A token's signature alone would do as well: it must not leak either.
        assertFalse(line.contains(token.substring(token.lastIndexOf('.') + 1)), "a log line holds a signature: " + line);
      }
      assertFalse(line.contains(secretText), "a log line holds the JWT secret: " + line);
    }
  }

  private static String token(TokenGrant grant) {
    String t = minter.mint(grant);
    tokens.add(t);
    return t;
  }

  private static String token(String sub, String scope, List<String> models, Integer rpm, Integer concurrent) {
    return token(new TokenGrant(sub, scope, models, rpm, concurrent, ISSUER, AUDIENCE, Duration.ofHours(1)));
  }

  /** A token with exactly these claims, signed with the mesh's secret (or another one). */
  private static String signed(JsonObject claims, Path key) {
    JWTAuth jwt = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(KeyFiles.hmacSecret("key", key))));
    String t = jwt.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    tokens.add(t);
    return t;
  }

  private static JsonObject claims(String sub) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", sub).put("scope", "inference models:read").put("iss", ISSUER)
        .put("aud", AUDIENCE).put("iat", now).put("exp", now + 3600);
  }

  private static HttpResponse<String> call(String node, String method, String path, String body, String token,
                                           String... headers) {
    List<String> h = new ArrayList<>(List.of(headers));
    if (token != null) {
      h.add("Authorization");
      h.add(token.startsWith("Basic ") ? token : "Bearer " + token);
    }
    return https.send(mesh.port(node), method, path, body, h.toArray(String[]::new));
  }

  private static long inferenceAtSites() {
    return mesh.sims.values().stream().mapToLong(s -> s.stats().requests()).sum();
  }

  private static void assertRefused(HttpResponse<String> r, int status, String messagePart) {
    assertEquals(status, r.statusCode(), r.body());
    String error = new JsonObject(r.body()).getValue("error") instanceof JsonObject openAi
        ? openAi.getString("message") : new JsonObject(r.body()).getString("error");
    assertTrue(error.contains(messagePart), "'" + error + "' should say '" + messagePart + "'");
  }

  @Test
  void badTokensAreRefusedWithAClearMessageAndNothingReachesASite() throws Exception {
    long before = inferenceAtSites();
    Path otherSecret = dir.resolve("other.secret");
    Files.writeString(otherSecret, KeyFiles.newHmacSecret());
    long now = System.currentTimeMillis() / 1000;
    String unsigned = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims("mallory").encode()) + ".";

    assertRefused(call("a", "POST", "/api/generate", GENERATE, null), 401, "Authorization: Bearer");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, "Basic dXNlcjpwYXNz"), 401, "must be \"Bearer <token>\"");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, "not-a-jwt"), 401, "malformed");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, signed(claims("mallory"), otherSecret)), 401, "signature");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, unsigned), 401, "alg \"none\"");
    assertRefused(call("a", "POST", "/api/generate", GENERATE,
        signed(claims("old").put("iat", now - 7200).put("exp", now - 3600), secret)), 401, "expired");
    JsonObject noExp = claims("forever");
    noExp.remove("exp");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, signed(noExp, secret)), 401, "no exp");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, signed(claims("x").put("iss", "evil"), secret)), 401,
        "issuer");
    assertRefused(call("a", "POST", "/api/generate", GENERATE, signed(claims("x").put("aud", "other"), secret)), 401,
        "audience");
    assertRefused(call("b", "POST", "/api/generate", GENERATE, token("reader", "models:read", List.of(), null, null)),
        403, "lacks the 'inference' scope");
    assertRefused(call("b", "POST", "/api/generate", GENERATE.replace("llama3.2", "mistral"),
        token("narrow", "inference", List.of("llama3*"), null, null)), 403, "may not use model 'mistral'");
    String user = token("user", "inference models:read", List.of(), null, null);
    assertRefused(call("b", "POST", "/api/generate", GENERATE, user, "X-Hive-Node", "a"), 403, "lacks the 'admin' scope");
    assertRefused(call("b", "POST", "/api/pull", "{\"model\":\"x\"}", user, "X-Hive-Node", "a"), 403, "'admin'");
    assertRefused(call("b", "GET", "/hive/nodes", null, user), 403, "'admin'");

    HttpResponse<String> openAi = call("c", "POST", "/v1/chat/completions",
        "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", null);
    assertEquals(401, openAi.statusCode());
    assertEquals("authentication_error", new JsonObject(openAi.body()).getJsonObject("error").getString("type"));
    assertTrue(openAi.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));

    assertEquals(before, inferenceAtSites(), "a refused request reached a site");
    assertEquals(200, call("b", "POST", "/api/generate", GENERATE, user).statusCode(), "a good token still works");
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aTokenSeesAndUsesOnlyItsModels() {
    String narrow = token("lister", "inference models:read", List.of("llama3*", "nomic-embed-text"), null, null);
    JsonArray tags = new JsonObject(call("b", "GET", "/api/tags", null, narrow).body()).getJsonArray("models");
    List<String> names = tags.stream().map(m -> ((JsonObject) m).getString("name")).sorted().toList();
    assertEquals(List.of("llama3.2:latest", "nomic-embed-text:latest"), names);
    JsonArray openAi = new JsonObject(call("b", "GET", "/v1/models", null, narrow).body()).getJsonArray("data");
    assertEquals(2, openAi.size());
    assertEquals(403, call("b", "GET", "/v1/models/mistral", null, narrow).statusCode());
    assertEquals(200, call("b", "POST", "/api/generate", GENERATE, narrow).statusCode());

    String all = token("everything", "inference models:read", List.of(), null, null);
    assertEquals(4, new JsonObject(call("b", "GET", "/api/tags", null, all).body()).getJsonArray("models").size());
    assertEquals(200, call("c", "GET", "/api/version", null, token("nobody", "", List.of(), null, null)).statusCode());
    assertEquals(200, https.send(mesh.port("a"), "GET", "/", null).statusCode(), "the liveness line needs no token");
  }

  @Test
  void aRequestsPerMinuteLimitHoldsAcrossTheMeshWhateverNodeIsUsed() throws Exception {
    int rpm = 120;
    String greedy = token("greedy", "inference", List.of(), rpm, null);
    List<String> nodes = List.of("a", "b", "c");
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger limited = new AtomicInteger();
    List<String> other = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    long start = System.nanoTime();
    List<Future<?>> sent = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String node = nodes.get(i % 3);
      sent.add(pool.submit(() -> {
        HttpResponse<String> r = call(node, "POST", "/api/generate", GENERATE, greedy);
        if (r.statusCode() == 200) {
          ok.incrementAndGet();
        } else if (r.statusCode() == 429 && r.headers().firstValue("Retry-After").isPresent()
            && r.body().contains("limit of 120 requests per minute")) {
          limited.incrementAndGet();
        } else {
          other.add(r.statusCode() + " " + r.body());
        }
      }));
    }
    for (Future<?> f : sent) {
      f.get(120, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    assertEquals(List.of(), other);
    // A token bucket of one minute's worth, refilled at the same rate while the test ran.
    double allowed = rpm + rpm * seconds / 60;
    System.out.printf("rpm limit %d over 3 nodes: %d admitted, %d refused in %.1f s; the bucket allows %.1f%n",
        rpm, ok.get(), limited.get(), seconds, allowed);
    assertTrue(ok.get() <= allowed * 1.1 && ok.get() >= allowed * 0.9,
        ok.get() + " admitted in " + seconds + " s; the limit allows " + allowed);
    assertEquals(300, ok.get() + limited.get());
  }

  @Test
  void aConcurrencyLimitHoldsAcrossTheMeshAndSlotsComeBack() throws Exception {
    String parallel = token("parallel", "inference", List.of(), null, 3);
    String slow = GENERATE.replace("\"num_predict\":1", "\"num_predict\":100");
    List<String> nodes = List.of("a", "b", "c");
    ExecutorService pool = Executors.newFixedThreadPool(9);
    List<Future<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      String node = nodes.get(i % 3);
      sent.add(pool.submit(() -> call(node, "POST", "/api/generate", slow, parallel)));
    }
    int ok = 0;
    int limited = 0;
    for (Future<HttpResponse<String>> f : sent) {
      HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertRefused(r, 429, "3 requests in flight");
        limited++;
      }
    }
    pool.shutdown();
    assertEquals(3, ok, "admitted at once with a limit of 3");
    assertEquals(6, limited);
    // The slots are free again once those answers are done: within a second or so.
    TestMesh.awaitTrue("a new request is admitted", Duration.ofSeconds(10),
        () -> call("c", "POST", "/api/generate", GENERATE, parallel).statusCode() == 200);
  }

  @Test
  void aNodeWithoutKeysWarnsLoudlyThatItIsOpen() {
    try (TestMesh open = new TestMesh()) {
      open.add("open", SimOptions.defaults().withModels("phi3"));
      assertTrue(logs.lines().stream().anyMatch(l -> l.contains("INSECURE") && l.contains("'open'")));
    }
  }

  @Test
  void theBusAndTheMeshPortAdmitOnlyHoldersOfAMeshCertificate() throws Exception {
    Path foreign = dir.resolve("foreign");
    MeshPki.create(foreign, List.of("intruder"), List.of(), Duration.ofDays(1));
    int meshPort = mesh.nodes.get("a").config().clusterPort();
    for (int port : new int[] {busPortOfA, meshPort}) {
      assertTrue(closedWithoutAnswer(port, null), "no certificate: port " + port + " hangs up");
      assertTrue(closedWithoutAnswer(port, foreign.resolve("intruder")), "another CA: port " + port + " hangs up");
      assertFalse(closedWithoutAnswer(port, dir.resolve("pki/b")), "a mesh certificate is let in on port " + port);
    }
  }

  /**
   * Connects over TLS (trusting any server: the point is what the server accepts) with the
   * certificate at {@code identity}.crt/.key, or none; true if the server hangs up within 3 s.
   */
  private static boolean closedWithoutAnswer(int port, Path identity) throws Exception {
    NetClientOptions options = new NetClientOptions().setSsl(true).setTrustAll(true).setConnectTimeout(2000)
        .setHostnameVerificationAlgorithm("");
    if (identity != null) {
      options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(identity + ".crt").setKeyPath(identity + ".key"));
    }
    NetClient client = vertx.createNetClient(options);
    try {
      io.vertx.core.Promise<Boolean> hungUp = io.vertx.core.Promise.promise();
      // Handlers go on in the connect callback, on the socket's loop: a hang-up cannot slip in before them.
      client.connect(port, "127.0.0.1").onComplete(ar -> {
        if (ar.failed()) {
          if (ar.cause() instanceof javax.net.ssl.SSLException) {
            hungUp.complete(true);
          } else {
            hungUp.fail(new AssertionError("port " + port + " unreachable: " + ar.cause(), ar.cause()));
          }
          return;
        }
        NetSocket socket = ar.result();
        socket.exceptionHandler(err -> { });
        socket.handler(data -> hungUp.tryComplete(false));
        socket.closeHandler(v -> hungUp.tryComplete(true));
        vertx.setTimer(3000, id -> {
          hungUp.tryComplete(false);
          socket.close();
        });
      });
      return TestMesh.await(hungUp.future());
    } finally {
      client.close();
    }
  }
}
