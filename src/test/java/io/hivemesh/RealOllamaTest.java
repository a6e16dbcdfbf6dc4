package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.ollama.OllamaContainer;

/**
 * A node in front of a real Ollama in a container. Skipped where no Docker engine runs (as on the
 * build machines); where one does, it checks the node against the real thing, not the emulator.
 */
@Testcontainers(disabledWithoutDocker = true)
class RealOllamaTest {

  /** The smallest model in the Ollama library; pulling it needs the internet. */
  private static final String MODEL = "all-minilm";

  @Container
  static final OllamaContainer OLLAMA = new OllamaContainer("ollama/ollama:0.13.0");

  @Test
  void aNodeRelaysToARealOllama() throws Exception {
    OLLAMA.execInContainer("ollama", "pull", MODEL);
    try (TestMesh mesh = new TestMesh()) {
      mesh.addNode("real", OLLAMA.getEndpoint());
      mesh.awaitConverged();
      int port = mesh.port("real");
      assertTrue(Http.get(port, "/api/tags").body().contains(MODEL));
      HttpResponse<String> r = Http.post(port, "/api/embed", "{\"model\":\"" + MODEL + "\",\"input\":\"hello\"}");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(MODEL, new JsonObject(r.body()).getString("model"));
      HttpResponse<String> missing = Http.post(port, "/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}");
      assertEquals(404, missing.statusCode());
      // The mesh's "not found" is word for word the real Ollama's.
      java.net.http.HttpResponse<String> direct = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(OLLAMA.getEndpoint() + "/api/generate"))
              .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"nope\",\"prompt\":\"x\"}")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(direct.statusCode(), missing.statusCode());
      assertEquals(new JsonObject(direct.body()).getString("error"), new JsonObject(missing.body()).getString("error"));
    }
  }
}
