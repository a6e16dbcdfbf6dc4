package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.LogCapture;
import io.hivemesh.support.RawHttp;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.BeforeProperty;
import net.jqwik.api.statistics.Statistics;

/**
 * Throws generated bad input at the HTTP surface of a real two-node mesh: malformed, truncated and
 * mistyped JSON, huge and deeply nested bodies, invalid UTF-8, random requests and absurd headers,
 * and random Authorization headers at a node with client tokens on. Every answer to a client error
 * is a 4xx in Ollama's error format (OpenAI's on /v1); after each property both nodes still stream
 * normal answers, and no event loop was reported blocked.
 */
class HttpFuzzTest {

  /** Node "open" runs without tokens; node "auth" checks HS256 client tokens. */
  private static final String OPEN = "open";
  private static final String AUTH = "auth";
  private static final String MODEL_OPEN = "llama3.2";
  private static final String MODEL_AUTH = "phi3";
  /** Small, so that bodies past it are cheap to send: 413 is one of the answers under test. */
  private static final int BODY_LIMIT = 1 << 20;
  private static final int ANSWER_TIMEOUT_MS = 20_000;

  private static final List<String> BODY_ROUTES = List.of("/api/generate", "/api/chat", "/api/embed",
      "/v1/chat/completions", "/api/embeddings", "/api/show", "/v1/completions", "/v1/embeddings");
  /**
   * Every route the node serves but the destructive ones: /api/delete, /api/create, /api/copy and
   * /hive/drain would, rightly, remove a model or the node itself for the open node's anonymous admin.
   */
  private static final List<String> ALL_ROUTES = List.of("/", "/api/version", "/api/tags", "/api/ps", "/v1/models",
      "/v1/models/llama3.2", "/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/show",
      "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/api/pull", "/api/push",
      "/api/blobs/sha256:00", "/hive/nodes");
  private static final List<String> FIELDS = List.of("model", "name", "prompt", "messages", "stream", "options",
      "format", "keep_alive", "input", "images", "tools", "max_tokens", "think", "system", "template", "raw",
      "context", "suffix", "truncate", "temperature", "n");

  static TestMesh mesh;
  static LogCapture logs;
  static Vertx signerVertx;
  static JWTAuth signer;
  static String token;
  static final AtomicInteger inputs = new AtomicInteger();
  static final Map<Integer, AtomicInteger> statuses = new ConcurrentSkipListMap<>();
  static long startedAt;

  @BeforeContainer
  static void startMesh() throws IOException {
    startedAt = System.nanoTime();
    Path dir = Files.createTempDirectory("hive-fuzz");
    Path secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    signerVertx = Vertx.vertx();
    signer = JWTAuth.create(signerVertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(KeyFiles.hmacSecret("secret", secret))));
    token = sign(new JsonObject().put("sub", "fuzzer").put("scope", "inference models:read admin")
        .put("exp", System.currentTimeMillis() / 1000 + 3600));
    // Vert.x's blocked-thread checker for these nodes only: a handler holding an event loop for 5 s
    // is a wedge, whatever the machine's load (at a load of 38 on two cores, starved loops were
    // reported past a 1 s limit); at 5 s Vert.x also logs the blocked thread's stack.
    System.setProperty("vertx.options.blockedThreadCheckInterval", "500");
    System.setProperty("vertx.options.maxEventLoopExecuteTime", "5000");
    System.setProperty("vertx.options.maxEventLoopExecuteTimeUnit", "MILLISECONDS");
    try {
      mesh = new TestMesh();
      SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(8).withTokensPerSecond(5000);
      mesh.add(OPEN, sim.withModels(MODEL_OPEN, "all-minilm"), "--body-limit", Integer.toString(BODY_LIMIT));
      mesh.add(AUTH, sim.withModels(MODEL_AUTH), "--body-limit", Integer.toString(BODY_LIMIT),
          "--jwt-secret-file", secret.toString());
      mesh.awaitConverged();
    } finally {
      System.clearProperty("vertx.options.blockedThreadCheckInterval");
      System.clearProperty("vertx.options.maxEventLoopExecuteTime");
      System.clearProperty("vertx.options.maxEventLoopExecuteTimeUnit");
    }
    logs = LogCapture.attach();
  }

  @AfterContainer
  static void stopMesh() {
    System.out.printf("HttpFuzzTest: %d generated inputs in %d ms, statuses seen %s%n", inputs.get(),
        (System.nanoTime() - startedAt) / 1_000_000, statuses);
    if (logs != null) {
      logs.close();
    }
    if (mesh != null) {
      mesh.close();
    }
    TestMesh.await(signerVertx.close());
  }

  /** Where this property's log lines start. */
  private int logsBefore;

  @BeforeProperty
  void markLogs() {
    logsBefore = logs.lines().size();
  }

  /** After thousands of bad requests both nodes still answer normal ones, and no loop was blocked. */
  @AfterProperty
  void nodesStillServe() {
    for (String node : List.of(OPEN, AUTH)) {
      String model = node.equals(OPEN) ? MODEL_AUTH : MODEL_OPEN; // relayed to the other site on purpose
      String[] auth = node.equals(AUTH) ? new String[] {"Authorization", "Bearer " + token} : new String[0];
      assertStreams(node, "/api/generate",
          "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"options\":{\"num_predict\":3}}", auth);
      assertStreams(node, "/api/chat", "{\"model\":\"" + model
          + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":3}}", auth);
    }
    List<String> lines = logs.lines();
    lines = lines.subList(logsBefore, lines.size());
    List<String> blocked = lines.stream().filter(l -> l.contains("has been blocked for")).toList();
    assertEquals(List.of(), blocked, "an event loop was blocked");
    // The node's own 500 handler, and Vert.x Web's lines for a failure nothing handled.
    List<String> failures = lines.stream().filter(l -> l.contains("unexpected failure")
        || l.contains("Unhandled exception in router") || l.contains("Error in error handler")).toList();
    assertEquals(List.of(), failures, "a request failed inside the node");
  }

  private static void assertStreams(String node, String path, String body, String... headers) {
    HttpResponse<java.util.stream.Stream<String>> r = Http.stream(mesh.port(node), path, body, headers);
    List<String> lines = r.body().toList();
    assertEquals(200, r.statusCode(), node + " " + path + ": " + lines);
    assertTrue(lines.size() > 1, node + " " + path + " did not stream: " + lines);
    assertEquals(Boolean.TRUE, new JsonObject(lines.get(lines.size() - 1)).getBoolean("done"),
        node + " " + path + " did not finish: " + lines);
  }

  // ---------------------------------------------------------------- properties

  @Property(tries = 1000)
  void malformedAndTruncatedJson(@ForAll("nodes") String node, @ForAll("mutatedBodies") Tuple.Tuple2<String, Bytes> req) {
    check(Input.post(node, req.get1(), req.get2().bytes()));
  }

  @Property(tries = 1000)
  void wrongTypes(@ForAll("nodes") String node, @ForAll("bodyRoutes") String route,
                  @ForAll("mistypedBodies") String body) {
    check(Input.post(node, route, body.getBytes(StandardCharsets.UTF_8)));
  }

  @Property(tries = 60)
  void hugeAndDeeplyNested(@ForAll("nodes") String node, @ForAll("bodyRoutes") String route,
                           @ForAll("hugeBodies") Bytes body) {
    check(Input.post(node, route, body.bytes()));
  }

  @Property(tries = 500)
  void invalidUtf8(@ForAll("nodes") String node, @ForAll("bodyRoutes") String route,
                   @ForAll("invalidUtf8Bodies") Bytes body) {
    check(Input.post(node, route, body.bytes()));
  }

  @Property(tries = 800)
  void arbitraryRequests(@ForAll("nodes") String node, @ForAll("arbitraryInputs") Input input) {
    check(input.at(node));
  }

  @Property(tries = 700)
  void authorizationHeaders(@ForAll("authorizations") Bytes authorization, @ForAll("bodyRoutes") String route) {
    byte[] value = authorization.bytes();
    // Past the server's header size limit a request is refused before any route sees it (431, empty body).
    boolean wellFormed = wellFormedHeaderValue(value) && value.length < 4000;
    Input in = new Input(AUTH, "POST", route, List.of(header("Authorization".getBytes(StandardCharsets.US_ASCII),
        value)), validBody(route, MODEL_OPEN), wellFormed, false);
    RawHttp.Response r = check(in);
    if (r.answered() && r.status() == 401) {
      assertEquals("Bearer realm=\"hive\"", r.header("WWW-Authenticate"), "401 without a challenge");
    }
  }

  // ---------------------------------------------------------------- the check every input gets

  /** Generated bytes, shown in a failure report as their start and length rather than as numbers. */
  record Bytes(byte[] bytes) {
    @Override
    public String toString() {
      return escape(Arrays.copyOf(bytes, Math.min(bytes.length, 300))) + " (" + bytes.length + " bytes)";
    }
  }

  /** One request as bytes on the wire; {@code wellFormed} when it is valid HTTP/1.1 a server must answer. */
  record Input(String node, String method, String target, List<byte[]> headers, byte[] body, boolean wellFormed,
               boolean halfClose) {

    static Input post(String node, String route, byte[] body) {
      return new Input(node, "POST", route, List.of(), body, true, false);
    }

    Input at(String other) {
      return new Input(other, method, target, headers, body, wellFormed, halfClose);
    }

    byte[] bytes() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes((method + " ").getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(target.getBytes(StandardCharsets.UTF_8));
      out.writeBytes(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      boolean ownsAuthorization = false;
      boolean ownsLength = false;
      for (byte[] h : headers) {
        String name = new String(h, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
        ownsAuthorization |= name.startsWith("authorization:");
        ownsLength |= name.startsWith("content-length:") || name.startsWith("transfer-encoding:");
        out.writeBytes(h);
        out.writeBytes(new byte[] {'\r', '\n'});
      }
      if (node.equals(AUTH) && !ownsAuthorization) {
        out.writeBytes(("Authorization: Bearer " + token + "\r\n").getBytes(StandardCharsets.US_ASCII));
      }
      if (!ownsLength) {
        out.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      }
      out.writeBytes(new byte[] {'\r', '\n'});
      out.writeBytes(body);
      return out.toByteArray();
    }

    @Override
    public String toString() {
      String shownBody = escape(Arrays.copyOf(body, Math.min(body.length, 300)));
      return node + " " + method + " " + escape(target.getBytes(StandardCharsets.UTF_8)) + " headers=["
          + headers.stream().map(h -> (String) (escape(Arrays.copyOf(h, Math.min(h.length, 120))) + "(" + h.length + "b)"))
          .collect(Collectors.joining(", ")) + "] body(" + body.length + "b)=" + shownBody
          + (wellFormed ? "" : " [malformed HTTP]") + (halfClose ? " [half-closed]" : "");
    }
  }

  /** Bytes as text a reader can follow: printable ASCII as is, the rest as \\xNN. */
  static String escape(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      int c = b & 0xff;
      sb.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02X", c));
    }
    return sb.toString();
  }

  private static RawHttp.Response check(Input in) {
    inputs.incrementAndGet();
    RawHttp.Response r;
    try {
      r = RawHttp.exchange(mesh.port(in.node()), in.bytes(), in.halfClose(), ANSWER_TIMEOUT_MS);
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no answer within " + ANSWER_TIMEOUT_MS + " ms to " + in);
    } catch (IOException e) {
      throw new AssertionError("could not talk to the node: " + e + " for " + in, e);
    }
    statuses.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
    Statistics.label("status").collect(r.status());
    if (!r.answered()) {
      assertTrue(!in.wellFormed() || in.halfClose(), "no answer to a well-formed request: " + in);
      return r;
    }
    // No 5xx at all: requests go one at a time (never past --max-requests, so no 503 busy), the sims
    // are healthy and fast, and nothing drains a node. Any 5xx here is the node failing on bad input.
    assertTrue(r.status() < 500, "status " + r.status() + " " + r.text() + " for " + in);
    String path = in.target().split("\\?", 2)[0];
    if (in.method().equals("HEAD")) {
      return r; // an answer to HEAD has no body to check
    }
    if (r.status() >= 400 && in.wellFormed() && ALL_ROUTES.contains(path) && r.status() != 404 && r.status() != 405) {
      assertErrorFormat(r, path.startsWith("/v1/"), in);
    } else if ((r.status() == 404 || r.status() == 405) && in.wellFormed() && ALL_ROUTES.contains(path)
        && !"text/plain; charset=utf-8".equals(r.header("Content-Type"))) {
      // A known route's 404 (an unknown model) is JSON; only "404 page not found" and 405 are Ollama's plain text.
      assertErrorFormat(r, path.startsWith("/v1/"), in);
    }
    return r;
  }

  private static void assertErrorFormat(RawHttp.Response r, boolean openAi, Input in) {
    String ctx = r.status() + " " + r.text() + " for " + in;
    assertTrue(String.valueOf(r.header("Content-Type")).startsWith("application/json"), "not JSON: " + ctx);
    JsonObject json;
    try {
      json = new JsonObject(r.text());
    } catch (RuntimeException e) {
      throw new AssertionError("error body is not a JSON object: " + ctx, e);
    }
    if (openAi) {
      JsonObject error = assertInstanceOf(JsonObject.class, json.getValue("error"), "not OpenAI's shape: " + ctx);
      assertInstanceOf(String.class, error.getValue("message"), ctx);
      assertInstanceOf(String.class, error.getValue("type"), ctx);
    } else {
      assertInstanceOf(String.class, json.getValue("error"), "not Ollama's shape: " + ctx);
      assertEquals(1, json.size(), "not Ollama's shape: " + ctx);
    }
  }

  // ---------------------------------------------------------------- generators

  @Provide
  Arbitrary<String> nodes() {
    return Arbitraries.of(OPEN, AUTH);
  }

  @Provide
  Arbitrary<String> bodyRoutes() {
    return Arbitraries.of(BODY_ROUTES);
  }

  /** A valid request for the route; the model is a real one on purpose, so that what survives mutation is relayed. */
  static byte[] validBody(String route, String model) {
    String body = switch (route) {
      case "/api/chat" -> "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
          + "\"stream\":true,\"options\":{\"num_predict\":2}}";
      case "/v1/chat/completions" -> "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
          + "\"max_tokens\":2,\"stream\":false}";
      case "/api/embed", "/v1/embeddings" -> "{\"model\":\"" + model + "\",\"input\":[\"hi\",\"there\"]}";
      case "/api/embeddings" -> "{\"model\":\"" + model + "\",\"prompt\":\"hi\"}";
      case "/api/show" -> "{\"model\":\"" + model + "\",\"verbose\":false}";
      case "/v1/completions" -> "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"max_tokens\":2}";
      default -> "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}";
    };
    return body.getBytes(StandardCharsets.UTF_8);
  }

  private static final byte[] JSON_BYTES = "{}[]\":,\\ \t\n0-1.eE+truefalsnl\u0000x".getBytes(StandardCharsets.UTF_8);

  @Provide
  Arbitrary<Tuple.Tuple2<String, Bytes>> mutatedBodies() {
    Arbitrary<String> route = Arbitraries.of(BODY_ROUTES);
    Arbitrary<String> model = Arbitraries.of(MODEL_OPEN, MODEL_AUTH, "no-such-model");
    Arbitrary<List<int[]>> mutations = Combinators.combine(Arbitraries.integers().between(0, 4),
        Arbitraries.integers().between(0, 10_000), Arbitraries.integers().between(0, JSON_BYTES.length - 1),
        Arbitraries.integers().between(1, 40))
        .as((kind, at, b, len) -> new int[] {kind, at, b, len}).list().ofMinSize(1).ofMaxSize(4);
    return Combinators.combine(route, model, mutations).as((r, m, ms) -> {
      byte[] body = validBody(r, m);
      for (int[] mu : ms) {
        body = mutate(body, mu[0], mu[1], JSON_BYTES[mu[2]], mu[3]);
      }
      return Tuple.of(r, new Bytes(body));
    });
  }

  /** Truncates, deletes, inserts, replaces or repeats bytes at a position. */
  private static byte[] mutate(byte[] body, int kind, int at, byte b, int len) {
    int i = body.length == 0 ? 0 : at % body.length;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (kind) {
      case 0 -> out.write(body, 0, i);
      case 1 -> {
        out.write(body, 0, i);
        int skip = Math.min(len, body.length - i);
        out.write(body, i + skip, body.length - i - skip);
      }
      case 2 -> {
        out.write(body, 0, i);
        out.write(b);
        out.write(body, i, body.length - i);
      }
      case 3 -> {
        byte[] copy = body.clone();
        if (copy.length > 0) {
          copy[i] = b;
        }
        return copy;
      }
      default -> {
        out.write(body, 0, i);
        int n = Math.min(len, body.length - i);
        out.write(body, i, n);
        out.write(body, i, body.length - i);
      }
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<String> mistypedBodies() {
    Arbitrary<String> value = jsonValue(3);
    Arbitrary<String> modelValue = Arbitraries.oneOf(Arbitraries.of("\"" + MODEL_OPEN + "\"", "\"" + MODEL_AUTH + "\"",
        "\"\"", "\"   \"", "\":\"", "\"/\"", "\"a/b/c/d:e:f\"", "\"https://x/y/z:w\"", "\"llama3.2:local\"", "null"), value);
    Arbitrary<String> field = Combinators.combine(Arbitraries.of(FIELDS), value, modelValue)
        .as((name, v, m) -> "\"" + name + "\":" + (name.equals("model") || name.equals("name") ? m : v));
    return Arbitraries.oneOf(
        field.list().ofMinSize(0).ofMaxSize(8).map(fs -> "{" + String.join(",", fs) + "}"),
        value);
  }

  /** Any JSON value, nested to {@code depth}: the wrong type for whichever field it lands in. */
  static Arbitrary<String> jsonValue(int depth) {
    Arbitrary<String> scalar = Arbitraries.oneOf(
        Arbitraries.of("true", "false", "null", "0", "-0", "1e999", "-1e-999", "123456789012345678901234567890",
            "1.5", "-7", "9223372036854775808", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"",
            "\"%s%n%d\"", "\"' OR 1=1 --\"", "\"\\\"\""),
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.doubles().map(String::valueOf).filter(s -> !s.contains("N") && !s.contains("I")),
        Arbitraries.strings().all().ofMaxLength(20).map(s -> JsonArray.of(s).encode().replaceAll("^\\[|]$", "")));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<String> inner = jsonValue(depth - 1);
    return Arbitraries.frequencyOf(
        Tuple.of(3, scalar),
        Tuple.of(1, inner.list().ofMaxSize(4).map(vs -> "[" + String.join(",", vs) + "]")),
        Tuple.of(1, Combinators.combine(Arbitraries.of(FIELDS), inner).as((k, v) -> "\"" + k + "\":" + v)
            .list().ofMaxSize(4).map(fs -> "{" + String.join(",", fs) + "}")));
  }

  @Provide
  Arbitrary<Bytes> hugeBodies() {
    Arbitrary<Integer> depth = Arbitraries.integers().between(1, 100_000).withDistribution(
        net.jqwik.api.RandomDistribution.biased());
    Arbitrary<byte[]> deepArrays = Combinators.combine(depth, Arbitraries.of(true, false), Arbitraries.of(FIELDS))
        .as((d, closed, f) -> deep("[", "]", d, closed, "{\"model\":\"" + MODEL_OPEN + "\",\"" + f + "\":"));
    Arbitrary<byte[]> deepObjects = Combinators.combine(depth, Arbitraries.of(true, false), Arbitraries.of(FIELDS))
        .as((d, closed, f) -> deep("{\"a\":", "}", d, closed, "{\"model\":\"" + MODEL_OPEN + "\",\"" + f + "\":"));
    Arbitrary<byte[]> deepTopLevel = depth.map(d -> deep("[", "]", d, true, ""));
    Arbitrary<Integer> size = Arbitraries.integers().between(1_000, BODY_LIMIT + 200_000);
    Arbitrary<byte[]> hugeString = Combinators.combine(size, Arbitraries.of("model", "prompt", "name", "system"))
        .as((n, f) -> ("{\"model\":\"" + MODEL_OPEN + "\",\"" + f + "\":\"" + "x".repeat(n) + "\"}")
            .getBytes(StandardCharsets.UTF_8));
    Arbitrary<byte[]> manyFields = Arbitraries.integers().between(1_000, 80_000).map(n -> {
      StringBuilder sb = new StringBuilder("{");
      for (int i = 0; i < n; i++) {
        sb.append("\"f").append(i).append("\":").append(i).append(',');
      }
      return sb.append("\"model\":\"").append(MODEL_OPEN).append("\"}").toString().getBytes(StandardCharsets.UTF_8);
    });
    Arbitrary<byte[]> hugeNumber = size.map(n -> ("{\"model\":\"" + MODEL_OPEN + "\",\"options\":{\"num_predict\":"
        + "9".repeat(Math.min(n, BODY_LIMIT - 100)) + "}}").getBytes(StandardCharsets.UTF_8));
    Arbitrary<byte[]> manyModels = Arbitraries.integers().between(1_000, 50_000).map(n ->
        ("{" + "\"model\":\"m\",".repeat(n) + "\"model\":\"" + MODEL_OPEN + "\"}").getBytes(StandardCharsets.UTF_8));
    return Arbitraries.oneOf(deepArrays, deepObjects, deepTopLevel, hugeString, manyFields, hugeNumber, manyModels)
        .map(Bytes::new);
  }

  private static byte[] deep(String open, String close, int depth, boolean closed, String prefix) {
    StringBuilder sb = new StringBuilder(prefix);
    sb.append(open.repeat(depth)).append('1');
    if (closed) {
      sb.append(close.repeat(depth));
      if (!prefix.isEmpty()) {
        sb.append('}');
      }
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static final byte[][] BAD_UTF8 = {
      {(byte) 0xC3, 0x28}, {(byte) 0xA0, (byte) 0xA1}, {(byte) 0xE2, 0x28, (byte) 0xA1}, {(byte) 0xE2, (byte) 0x82, 0x28},
      {(byte) 0xF0, 0x28, (byte) 0x8C, (byte) 0xBC}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
      {(byte) 0xFF}, {(byte) 0xFE, (byte) 0xFF}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xE0, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xC3}};

  @Provide
  Arbitrary<Bytes> invalidUtf8Bodies() {
    Arbitrary<byte[]> bad = Arbitraries.of(BAD_UTF8).list().ofMinSize(1).ofMaxSize(3).map(parts -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      parts.forEach(out::writeBytes);
      return out.toByteArray();
    });
    Arbitrary<String> where = Arbitraries.of("model", "model-suffix", "prompt", "field-name", "between", "message");
    Arbitrary<byte[]> placed = Combinators.combine(bad, where).as((b, w) -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Runnable put = () -> out.writeBytes(b);
      switch (w) {
        case "model" -> {
          out.writeBytes("{\"model\":\"".getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\",\"prompt\":\"hi\",\"stream\":false}".getBytes(StandardCharsets.UTF_8));
        }
        case "model-suffix" -> {
          out.writeBytes(("{\"model\":\"" + MODEL_OPEN).getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\",\"prompt\":\"hi\",\"stream\":false}".getBytes(StandardCharsets.UTF_8));
        }
        case "prompt" -> {
          out.writeBytes(("{\"model\":\"" + MODEL_OPEN + "\",\"prompt\":\"").getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\",\"stream\":false,\"options\":{\"num_predict\":1}}".getBytes(StandardCharsets.UTF_8));
        }
        case "field-name" -> {
          out.writeBytes(("{\"model\":\"" + MODEL_OPEN + "\",\"").getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\":1}".getBytes(StandardCharsets.UTF_8));
        }
        case "between" -> {
          out.writeBytes(("{\"model\":\"" + MODEL_OPEN + "\",").getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\"stream\":false}".getBytes(StandardCharsets.UTF_8));
        }
        default -> {
          out.writeBytes(("{\"model\":\"" + MODEL_OPEN + "\",\"messages\":[{\"role\":\"user\",\"content\":\"")
              .getBytes(StandardCharsets.UTF_8));
          put.run();
          out.writeBytes("\"}],\"stream\":false,\"max_tokens\":1}".getBytes(StandardCharsets.UTF_8));
        }
      }
      return out.toByteArray();
    });
    Arbitrary<byte[]> randomBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(2000);
    return Arbitraries.frequencyOf(Tuple.of(4, placed), Tuple.of(1, randomBytes)).map(Bytes::new);
  }

  private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD",
      "TRACE", "PROPFIND", "FOO", "get", "P0ST", "BREW");
  private static final List<String> PATH_NOISE = List.of("", "/", "//", "/..", "/../api/tags", "/%2e%2e/", "/%",
      "/%zz", "/%00", "/%C3%28", "/%ff%fe", "/a%2Fb", "/;jsessionid=1", "/.", "/x", "/llama3.2:latest",
      "/%20", "/\u00e9", "/\u4e2d", "/" + "a".repeat(3000));
  private static final List<String> QUERIES = List.of("", "?", "?a=1", "?a", "?=", "?&&==&", "?a=%zz", "?a=%",
      "?model=x&model=y", "?stream=false", "?a=%C3%28", "?" + "q=1&".repeat(2000), "?a=" + "b".repeat(6000), "?#frag");

  @Provide
  Arbitrary<Input> arbitraryInputs() {
    Arbitrary<String> method = Arbitraries.of(METHODS);
    Arbitrary<String> target = Combinators.combine(Arbitraries.of(ALL_ROUTES), Arbitraries.of(PATH_NOISE),
        Arbitraries.of(QUERIES), Arbitraries.integers().between(0, 3))
        .as((route, noise, query, shape) -> switch (shape) {
          case 0 -> route + query;
          case 1 -> route + noise + query;
          case 2 -> noise + route + query;
          default -> (noise.isEmpty() ? "/" : noise) + query;
        });
    Arbitrary<List<byte[]>> headers = Arbitraries.frequencyOf(
        Tuple.of(4, randomHeader().list().ofMaxSize(6)),
        Tuple.of(1, absurdHeaders()));
    Arbitrary<byte[]> body = Arbitraries.oneOf(
        Arbitraries.of(BODY_ROUTES).map(r -> validBody(r, MODEL_OPEN)),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(500),
        Arbitraries.just(new byte[0]));
    return Combinators.combine(method, target, headers, body, Arbitraries.of(false, true))
        .as((m, t, hs, b, halfClose) -> {
          boolean wellFormed = wellFormed(m, t, hs);
          // A malformed request may leave the server waiting for bytes (a chunked body that is not):
          // the half-close says none will come. How long a silent client may hold a connection is
          // the server options' idle timeout, not this test's business.
          return new Input(OPEN, m, t, hs, b, wellFormed, halfClose || !wellFormed);
        });
  }

  /** Whether a server must parse this as HTTP (else closing the connection or a 400 both do). */
  private static boolean wellFormed(String method, String target, List<byte[]> headers) {
    if (!method.chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
      return false;
    }
    if (target.chars().anyMatch(c -> c <= ' ' || c >= 0x7f || c == '#') || target.length() > 4000) {
      return false;
    }
    long total = 0;
    for (byte[] h : headers) {
      total += h.length + 2;
      String line = new String(h, StandardCharsets.ISO_8859_1);
      int colon = line.indexOf(':');
      String name = colon < 0 ? line : line.substring(0, colon);
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      if (colon <= 0 || !name.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 0x7f || c == '-')
          || !wellFormedHeaderValue(Arrays.copyOfRange(h, colon + 1, h.length))
          || lower.equals("content-length") || lower.equals("transfer-encoding") || lower.equals("host")
          || lower.equals("expect") || lower.equals("connection") || lower.equals("upgrade")) {
        return false;
      }
    }
    return total < 4000 && headers.size() < 50;
  }

  private static boolean wellFormedHeaderValue(byte[] value) {
    for (byte b : value) {
      if ((b & 0xff) < 0x20 && b != '\t' || b == 0x7f || (b & 0xff) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static byte[] header(byte[] name, byte[] value) {
    byte[] h = Arrays.copyOf(name, name.length + 2 + value.length);
    h[name.length] = ':';
    h[name.length + 1] = ' ';
    System.arraycopy(value, 0, h, name.length + 2, value.length);
    return h;
  }

  /**
   * Random header lines. "Upgrade: h2c" is left out: the node answers nothing to it and holds the
   * connection open (Vert.x's cleartext HTTP/2 upgrade, on by default in the server options, which
   * this test does not own); a client can only hold its own connection that way.
   */
  private static Arbitrary<byte[]> randomHeader() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.of("Authorization", "X-Hive-Node", "Content-Type", "Accept", "Origin", "Content-Length",
            "Transfer-Encoding", "Expect", "Connection", "Upgrade", "Accept-Encoding", "Content-Encoding", "Host",
            "X-Forwarded-For", "Cookie", "Range"),
        Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(30),
        Arbitraries.strings().all().ofMaxLength(10));
    Arbitrary<byte[]> value = Arbitraries.oneOf(
        Arbitraries.of("", "Bearer", "Bearer ", "bearer x.y.z", "application/json", "text/plain", "gzip", "deflate",
            "chunked", "100-continue", "websocket", "-1", "abc", "99999999999999999999", "0", "3", "open",
            "auth", "no-such-node", "*/*", "close", "keep-alive").map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
        Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(200).map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(60));
    return Combinators.combine(name, value).as((n, v) -> header(n.getBytes(StandardCharsets.UTF_8), v));
  }

  /** One enormous header, or thousands of small ones. */
  private static Arbitrary<List<byte[]>> absurdHeaders() {
    Arbitrary<List<byte[]>> oneHuge = Combinators.combine(
        Arbitraries.of("Authorization", "X-Hive-Node", "Cookie", "X-Big"),
        Arbitraries.integers().between(4_000, 1 << 20))
        .as((n, len) -> List.of(header(n.getBytes(StandardCharsets.US_ASCII),
            "a".repeat(len).getBytes(StandardCharsets.US_ASCII))));
    Arbitrary<List<byte[]>> many = Arbitraries.integers().between(50, 10_000).map(count -> {
      List<byte[]> hs = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        hs.add(("X-H" + i + ": v").getBytes(StandardCharsets.US_ASCII));
      }
      return hs;
    });
    Arbitrary<List<byte[]>> hugeName = Arbitraries.integers().between(4_000, 100_000)
        .map(len -> List.of(("X" + "n".repeat(len) + ": v").getBytes(StandardCharsets.US_ASCII)));
    return Arbitraries.oneOf(oneHuge, many, hugeName);
  }

  @Provide
  Arbitrary<Bytes> authorizations() {
    Arbitrary<String> b64 = Arbitraries.strings().all().ofMaxLength(60)
        .map(s -> Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8)));
    Arbitrary<String> header = Arbitraries.oneOf(
        Arbitraries.of("{\"alg\":\"none\"}", "{\"alg\":\"NONE\",\"typ\":\"JWT\"}", "{\"alg\":\"HS256\"}",
            "{\"alg\":\"RS256\",\"kid\":\"x\"}", "{\"alg\":\"ES256\"}", "{\"alg\":5}", "{\"alg\":null}", "{}", "[]",
            "null", "{\"alg\":\"HS256\",\"crit\":[\"x\"]}", "{\"alg\":\"HS256\",\"kid\":{\"a\":1}}", "\"alg\"",
            "{\"alg\":\"" + "H".repeat(5000) + "\"}"),
        jsonValue(2));
    Arbitrary<String> forged = Combinators.combine(header, claims(), b64, Arbitraries.integers().between(2, 4))
        .as((h, c, sig, parts) -> {
          String p = Base64.getUrlEncoder().withoutPadding().encodeToString(c.getBytes(StandardCharsets.UTF_8));
          String hb = Base64.getUrlEncoder().withoutPadding().encodeToString(h.getBytes(StandardCharsets.UTF_8));
          return String.join(".", List.of(hb, p, sig, sig).subList(0, parts));
        });
    // Properly signed: the claims inside a genuine token are attacker-chosen too, on a leaked secret or a lax issuer.
    Arbitrary<String> signed = claims().map(c -> {
      try {
        return sign(new JsonObject(c));
      } catch (RuntimeException e) {
        return "x";
      }
    });
    Arbitrary<String> mangledValid = Combinators.combine(Arbitraries.integers().between(0, 400),
        Arbitraries.chars().range('!', '~')).as((at, ch) -> {
          int i = at % token.length();
          return token.substring(0, i) + ch + token.substring(Math.min(token.length(), i + 1));
        });
    Arbitrary<String> truncatedValid = Arbitraries.integers().between(0, 400).map(n -> token.substring(0,
        Math.min(n, token.length())));
    Arbitrary<String> scheme = Arbitraries.of("Bearer ", "bearer ", "BEARER ", "Bearer  ", "Bearer\t", "Basic ", "",
        "Bearer", "Token ", "Bearer Bearer ");
    Arbitrary<byte[]> bearer = Combinators.combine(scheme,
        Arbitraries.oneOf(forged, signed, mangledValid, truncatedValid, b64,
            Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(300)))
        .as((s, t) -> (s + t).getBytes(StandardCharsets.UTF_8));
    Arbitrary<byte[]> rawBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(200)
        .map(b -> {
          byte[] out = Arrays.copyOf("Bearer ".getBytes(StandardCharsets.US_ASCII), 7 + b.length);
          System.arraycopy(b, 0, out, 7, b.length);
          return out;
        });
    return Arbitraries.frequencyOf(Tuple.of(6, bearer), Tuple.of(1, rawBytes)).map(Bytes::new);
  }

  /** Token claims with the right names and any values. */
  private static Arbitrary<String> claims() {
    long now = System.currentTimeMillis() / 1000;
    Arbitrary<String> exp = Arbitraries.of(Long.toString(now + 3600), Long.toString(now - 3600), "1e300", "-1e300",
        "\"" + (now + 3600) + "\"", "null", "9223372036854775807", "1.5e10", "true", "[]", "{}", "0");
    Arbitrary<String> value = jsonValue(2);
    Arbitrary<String> scope = Arbitraries.oneOf(Arbitraries.of("\"inference\"", "\"admin models:read inference\"",
        "[\"inference\",5,null,[\"admin\"]]", "\"\"", "\"   \""), value);
    Arbitrary<String> models = Arbitraries.oneOf(Arbitraries.of("[\"llama3.2\"]", "\"llama3.2,phi3\"", "[]", "[null]",
        "[5,{\"a\":1},[[]]]", "\",,,\"", "[\"*\"]", "[\"\"]", "[\"llama3.2:*\"]"), value);
    Arbitrary<String> limits = Arbitraries.oneOf(Arbitraries.of("{\"rpm\":1}", "{\"rpm\":-5}", "{\"concurrent\":1e300}",
        "{\"rpm\":\"x\"}", "{\"concurrent\":0.5}", "{\"rpm\":9223372036854775807}"), value);
    Arbitrary<String> sub = Arbitraries.oneOf(Arbitraries.of("\"fuzzer\"", "\"\"", "\" \"", "5", "null", "[]",
        "\"" + "s".repeat(10000) + "\"", "\"\\u0000\"", "\"a\\nb\""), value);
    return Combinators.combine(exp, scope, models, limits, sub, Arbitraries.integers().between(0, 31))
        .as((e, sc, m, l, s, present) -> {
          List<String> fields = new ArrayList<>();
          if ((present & 1) == 0) {
            fields.add("\"exp\":" + e);
          }
          if ((present & 2) == 0) {
            fields.add("\"sub\":" + s);
          }
          if ((present & 4) == 0) {
            fields.add("\"scope\":" + sc);
          }
          if ((present & 8) != 0) {
            fields.add("\"models\":" + m);
          }
          if ((present & 16) != 0) {
            fields.add("\"limits\":" + l);
          }
          return "{" + String.join(",", fields) + "}";
        });
  }

  private static String sign(JsonObject claims) {
    return signer.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
  }
}
