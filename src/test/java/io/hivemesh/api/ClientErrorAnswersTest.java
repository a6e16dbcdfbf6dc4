package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.LogCapture;
import io.hivemesh.support.RawHttp;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Answers to requests HttpFuzzTest found mishandled, each kept here as a plain example. */
class ClientErrorAnswersTest {

  private static final int LIMIT = 1 << 20;
  static TestMesh mesh;

  @BeforeAll
  static void start() {
    mesh = new TestMesh();
    mesh.add("a", SimOptions.defaults().withLoadMs(0).withModels("llama3.2"), "--body-limit", Integer.toString(LIMIT));
    mesh.awaitConverged();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  /**
   * A body whose Content-Length is past --body-limit is refused with 413 before it is read; the node
   * then closes the connection, which would otherwise stay open, paused, for as long as the client
   * keeps it (the client waited for the end of the exchange forever).
   */
  @ParameterizedTest
  @CsvSource({"/api/generate, close", "/api/generate, keep-alive", "/v1/chat/completions, close"})
  void answers413AndClosesTheConnection(String path, String connection) throws Exception {
    byte[] body = ("{\"model\":\"llama3.2\",\"prompt\":\"" + "x".repeat(LIMIT + 1000) + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + connection
        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);

    // Reads until the node closes; a connection left open fails this with a SocketTimeoutException.
    RawHttp.Response r = RawHttp.exchange(mesh.port("a"), request, false, 10_000);

    assertEquals(413, r.status());
    String message = "request body too large (limit " + LIMIT + " bytes)";
    JsonObject error = new JsonObject(r.text());
    assertEquals(message, path.startsWith("/v1/") ? error.getJsonObject("error").getString("message")
        : error.getString("error"));
  }

  /**
   * A path with an invalid percent escape is a 400 in Ollama's format (OpenAI's on /v1), and no
   * operator-facing ERROR: Vert.x Web logged "Unhandled exception in router" with a stack trace for
   * each such request, a log any client could flood.
   */
  @ParameterizedTest
  @CsvSource({"GET, /api/tags%zz", "POST, /api/generate/%", "GET, /v1/models/%zz"})
  void invalidPercentEscapeIsAQuiet400(String method, String path) throws Exception {
    try (LogCapture logs = LogCapture.attach()) {
      byte[] request = (method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
          + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);

      RawHttp.Response r = RawHttp.exchange(mesh.port("a"), request, false, 10_000);

      assertEquals(400, r.status(), r.text());
      JsonObject error = new JsonObject(r.text());
      String message = path.startsWith("/v1/") ? error.getJsonObject("error").getString("message")
          : error.getString("error");
      assertTrue(message.startsWith("invalid request: "), message);
      assertEquals(List.of(), logs.lines().stream().filter(l -> l.contains("Unhandled exception")).toList());
    }
  }

  /** An Expect other than 100-continue is a 417 in Ollama's format, and no ERROR line in the log. */
  @ParameterizedTest
  @CsvSource({"/api/generate", "/v1/chat/completions"})
  void unsupportedExpectationIsAQuiet417(String path) throws Exception {
    try (LogCapture logs = LogCapture.attach()) {
      byte[] request = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nExpect: gzip\r\n"
          + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);

      RawHttp.Response r = RawHttp.exchange(mesh.port("a"), request, false, 10_000);

      assertEquals(417, r.status(), r.text());
      JsonObject error = new JsonObject(r.text());
      assertTrue((path.startsWith("/v1/") ? error.getJsonObject("error").getString("message")
          : error.getString("error")).contains("100-continue"), r.text());
      assertEquals(List.of(), logs.lines().stream().filter(l -> l.contains("Unhandled exception")).toList());
    }
  }

  /**
   * Inference requests skip the router only when it would route them as they are. A trailing slash
   * is the router's to route: it relays the request, and the site answers as Ollama does (307 to the
   * path without the slash). A request without a Host header still gets the router's 400.
   */
  @Test
  void aPathWithATrailingSlashIsRelayedAndAnsweredAsOllamaAnswersIt() throws Exception {
    String body = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false}";
    byte[] request = ("POST /api/generate/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
        .getBytes(StandardCharsets.US_ASCII);

    RawHttp.Response r = RawHttp.exchange(mesh.port("a"), request, false, 10_000);

    assertEquals(307, r.status(), r.text());
    assertEquals("a", r.header("X-Hive-Node"), "relayed to the site");
  }

  @ParameterizedTest
  @CsvSource({"/api/generate", "/api/tags"})
  void anHttp11RequestWithoutHostIsA400(String path) throws Exception {
    byte[] request = ("POST " + path + " HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + "Content-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);

    RawHttp.Response r = RawHttp.exchange(mesh.port("a"), request, false, 10_000);

    assertEquals(400, r.status(), r.text());
  }
}
