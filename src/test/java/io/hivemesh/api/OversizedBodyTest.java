package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.RawHttp;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A body whose Content-Length is past --body-limit is refused with 413 before it is read; the node
 * then closes the connection, which would otherwise stay open, paused, for as long as the client
 * keeps it (found by HttpFuzzTest: the client waited for the end of the exchange forever).
 */
class OversizedBodyTest {

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
}
