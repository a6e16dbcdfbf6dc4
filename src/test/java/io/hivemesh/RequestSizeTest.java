package io.hivemesh;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.FaultyOllama;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request size bounds as a client meets them: a body over {@code --body-limit} gets 413 in Ollama's
 * format (OpenAI's on /v1) and costs the node nothing; a large body under it (an image) reaches
 * the site byte for byte; oversized request lines and headers get 414 / 431.
 */
class RequestSizeTest {

  private static final long LIMIT = 24L << 20;
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private static TestMesh mesh;
  private static FaultyOllama site;
  private static int port;

  @BeforeAll
  static void start() {
    mesh = new TestMesh();
    SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withModels("llava");
    OllamaSim sim = await(OllamaSim.start(mesh.simVertx, base.withName("one").withPort(0)));
    // A pass-through that records a digest of every inference body it receives.
    site = await(FaultyOllama.start(mesh.simVertx, sim.url()));
    mesh.addNode("one", site.url(), "--body-limit", "24m", "--max-header-size", "8k", "--max-initial-line", "4k");
    mesh.awaitConverged();
    port = mesh.port("one");
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  @Test
  void aLargeImageUnderTheLimitReachesTheSiteIntact() throws Exception {
    byte[] image = new byte[15 << 20];
    new Random(7).nextBytes(image);
    String b64 = Base64.getEncoder().encodeToString(image);
    byte[] body = ("{\"model\":\"llava\",\"prompt\":\"what is in this picture?\",\"stream\":false,\"images\":[\""
        + b64 + "\"],\"options\":{\"num_predict\":3}}").getBytes(StandardCharsets.UTF_8);
    assertTrue(body.length > 20_000_000 && body.length < LIMIT, "body of " + body.length + " bytes");
    HttpResponse<String> r = post("/api/generate", HttpRequest.BodyPublishers.ofByteArray(body));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(FaultyOllama.sha256(body), site.lastInferenceBodySha256());
  }

  @Test
  void aBodyOverTheLimitGets413InOllamasFormatAndTheNodeStaysUsable() throws Exception {
    byte[] body = oversized();
    HttpResponse<String> r = post("/api/generate", HttpRequest.BodyPublishers.ofByteArray(body));
    assertEquals(413, r.statusCode());
    assertEquals(new JsonObject().put("error", "request body too large (limit " + LIMIT + " bytes)"),
        new JsonObject(r.body()));

    HttpResponse<String> openAi = post("/v1/chat/completions", HttpRequest.BodyPublishers.ofByteArray(body));
    assertEquals(413, openAi.statusCode());
    JsonObject error = new JsonObject(openAi.body()).getJsonObject("error");
    assertEquals("request body too large (limit " + LIMIT + " bytes)", error.getString("message"));
    assertEquals("invalid_request_error", error.getString("type"));

    // No Content-Length: the limit is met mid-stream.
    HttpResponse<String> chunked = post("/api/chat",
        HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
    assertEquals(413, chunked.statusCode());
    assertTrue(chunked.body().contains("request body too large"), chunked.body());

    assertEquals(200, Http.post(port, "/api/generate",
        "{\"model\":\"llava\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}").statusCode());
    // A body's bytes are given back when its response ends on the node, a moment after the client has it.
    awaitTrue("no body bytes held", Duration.ofSeconds(5), () -> mesh.nodes.get("one").clientLimits().bodyBytes() == 0);
  }

  @Test
  void anEmptyBodyIsReadAsEmpty() throws Exception {
    HttpResponse<String> r = post("/api/chat", HttpRequest.BodyPublishers.noBody());
    assertEquals(400, r.statusCode());
    assertEquals(new JsonObject().put("error", "missing request body"), new JsonObject(r.body()));
  }

  @Test
  void oversizedRequestLinesAndHeadersGet414And431() throws IOException {
    String longUri = "/api/tags?" + "x".repeat(5000);
    String line = rawStatusLine("GET " + longUri + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    // The parser answers before any route runs: a bare status (HTTP/1.0 when the line did not parse), then close.
    assertTrue(line.matches("(?s)HTTP/1\\.[01] 414 .*"), line);
    String header = rawStatusLine("GET /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "y".repeat(9000)
        + "\r\n\r\n");
    assertTrue(header.matches("(?s)HTTP/1\\.[01] 431 .*"), header);
    assertEquals(200, Http.get(port, "/api/tags").statusCode());
  }

  /** A body just over the limit: the 20-million-character prompt a runaway client might send. */
  private static byte[] oversized() {
    String prompt = "a".repeat((int) LIMIT);
    return ("{\"model\":\"llava\",\"prompt\":\"" + prompt + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static HttpResponse<String> post(String path, HttpRequest.BodyPublisher body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").POST(body).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String rawStatusLine(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return all;
    }
  }
}
