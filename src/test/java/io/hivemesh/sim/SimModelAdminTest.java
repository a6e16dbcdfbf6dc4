package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Pull, push, create, copy, delete, blobs, and the embedding endpoints. */
@ExtendWith(VertxExtension.class)
class SimModelAdminTest {

  private OllamaSim sim;
  private SimHttp http;

  @BeforeEach
  void start(Vertx vertx) {
    sim = SimHttp.start(vertx, SimHttp.fast());
    http = new SimHttp(vertx, sim.port());
  }

  private List<String> tags() {
    return http.get("/api/tags").json().getJsonArray("models").stream()
        .map(m -> ((JsonObject) m).getString("name")).toList();
  }

  @Test
  void pullStreamsProgressThenTheModelIsOnDisk() {
    SimHttp.Reply r = http.post("/api/pull", "{\"model\":\"gemma3:1b\"}");
    assertEquals("application/x-ndjson", r.header("Content-Type"));
    List<JsonObject> lines = r.jsonLines();
    assertEquals("pulling manifest", lines.get(0).getString("status"));
    JsonObject layer = lines.get(1);
    assertTrue(layer.getString("status").matches("pulling [0-9a-f]{12}"));
    assertTrue(layer.getString("digest").startsWith("sha256:"));
    assertTrue(layer.getLong("total") > 0);
    assertTrue(lines.stream().anyMatch(l -> l.getLong("completed", 0L) > 0));
    assertEquals("verifying sha256 digest", lines.get(lines.size() - 3).getString("status"));
    assertEquals("writing manifest", lines.get(lines.size() - 2).getString("status"));
    assertEquals("success", lines.get(lines.size() - 1).getString("status"));
    assertEquals("gemma3:1b", tags().get(0), "newest first");

    SimHttp.Reply quiet = http.post("/api/pull", "{\"name\":\"qwen3\",\"stream\":false}");
    assertEquals("application/json", quiet.header("Content-Type"));
    assertEquals(new JsonObject().put("status", "success"), quiet.json());
    assertTrue(tags().contains("qwen3:latest"));
    assertEquals(200, http.post("/api/generate", "{\"model\":\"qwen3\",\"prompt\":\"x\",\"stream\":false}").status());
    SimGenerateTest.assertError(http.post("/api/pull", "{}"), 400, "invalid model name");
  }

  @Test
  void deleteRemovesAndCopyDuplicates() {
    SimHttp.Reply copy = http.post("/api/copy", "{\"source\":\"llama3.2\",\"destination\":\"mine:v1\"}");
    assertEquals(200, copy.status());
    assertEquals("", copy.body());
    JsonArray models = http.get("/api/tags").json().getJsonArray("models");
    assertEquals("mine:v1", models.getJsonObject(0).getString("name"));
    assertEquals(models.getJsonObject(1).getString("digest"), models.getJsonObject(0).getString("digest"));
    SimGenerateTest.assertError(http.post("/api/copy", "{\"source\":\"nope\",\"destination\":\"x\"}"), 404,
        "model \"nope\" not found");

    SimHttp.Reply delete = http.call(HttpMethod.DELETE, "/api/delete", "{\"model\":\"mine:v1\"}");
    assertEquals(200, delete.status());
    assertEquals("", delete.body());
    assertFalse(tags().contains("mine:v1"));
    SimGenerateTest.assertError(http.call(HttpMethod.DELETE, "/api/delete", "{\"model\":\"mine:v1\"}"), 404,
        "model 'mine:v1' not found");
    SimGenerateTest.assertError(http.call(HttpMethod.DELETE, "/api/delete", ""), 400, "missing request body");
    SimGenerateTest.assertError(http.post("/api/generate", "{\"model\":\"mine:v1\",\"prompt\":\"x\"}"), 404,
        "model 'mine:v1' not found");
  }

  @Test
  void createAndPush() {
    SimHttp.Reply create = http.post("/api/create", "{\"model\":\"helper\",\"from\":\"llama3.2\",\"system\":\"be brief\"}");
    List<JsonObject> lines = create.jsonLines();
    assertTrue(lines.get(0).getString("status").startsWith("using existing layer sha256:"));
    assertTrue(lines.stream().anyMatch(l -> l.getString("status").startsWith("creating new layer")));
    assertEquals("success", lines.get(lines.size() - 1).getString("status"));
    assertTrue(tags().contains("helper:latest"));

    SimHttp.Reply neither = http.post("/api/create", "{\"model\":\"x\"}");
    assertEquals(400, neither.status());
    assertEquals("neither 'from' or 'files' was specified", neither.json().getString("error"));

    List<JsonObject> push = http.post("/api/push", "{\"model\":\"helper\"}").jsonLines();
    assertEquals("retrieving manifest", push.get(0).getString("status"));
    assertEquals("success", push.get(push.size() - 1).getString("status"));
    List<JsonObject> failed = http.post("/api/push", "{\"model\":\"ghost\"}").jsonLines();
    assertTrue(failed.get(failed.size() - 1).getString("error").contains("no such file or directory"));
    SimGenerateTest.assertError(http.post("/api/push", "{}"), 400, "model is required");
  }

  @Test
  void blobsCheckTheDigest() throws Exception {
    byte[] data = "weights".getBytes(StandardCharsets.UTF_8);
    String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    assertEquals(404, http.call(HttpMethod.HEAD, "/api/blobs/" + digest, null).status());
    assertEquals(201, http.call(HttpMethod.POST, "/api/blobs/" + digest, "weights").status());
    assertEquals(200, http.call(HttpMethod.HEAD, "/api/blobs/" + digest, null).status());
    String other = "sha256:" + "0".repeat(64);
    SimHttp.Reply mismatch = http.call(HttpMethod.POST, "/api/blobs/" + other, "weights");
    assertEquals(400, mismatch.status());
    assertEquals("digest mismatch, expected \"" + other + "\", got \"" + digest + "\"", mismatch.json().getString("error"));
    assertEquals(400, http.call(HttpMethod.HEAD, "/api/blobs/nonsense", null).status());
    SimHttp.Reply create = http.post("/api/create", "{\"model\":\"fromfile\",\"files\":{\"m.gguf\":\"" + digest + "\"}}");
    assertEquals(200, create.status());
    assertTrue(tags().contains("fromfile:latest"));
  }

  @Test
  void embedReturnsUnitVectors() {
    SimHttp.Reply r = http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":[\"first\",\"second text\"]}");
    assertEquals("application/json; charset=utf-8", r.header("Content-Type"));
    JsonObject body = r.json();
    assertEquals("nomic-embed-text", body.getString("model"));
    JsonArray vectors = body.getJsonArray("embeddings");
    assertEquals(2, vectors.size());
    double norm = 0;
    for (Object x : vectors.getJsonArray(0)) {
      norm += ((Number) x).doubleValue() * ((Number) x).doubleValue();
    }
    assertEquals(1.0, norm, 1e-3);
    assertTrue(body.getInteger("prompt_eval_count") > 0);
    assertTrue(body.getLong("total_duration") > 0);
    assertEquals(vectors.getJsonArray(0), http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":\"first\"}")
        .json().getJsonArray("embeddings").getJsonArray(0), "deterministic");
    assertEquals(new JsonArray(), http.post("/api/embed", "{\"model\":\"nomic-embed-text\"}").json()
        .getJsonArray("embeddings"));
    assertEquals(16, http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":\"x\",\"dimensions\":16}").json()
        .getJsonArray("embeddings").getJsonArray(0).size());

    JsonArray legacy = http.post("/api/embeddings", "{\"model\":\"nomic-embed-text\",\"prompt\":\"first\"}").json()
        .getJsonArray("embedding");
    assertEquals(768, legacy.size());

    SimGenerateTest.assertError(http.post("/api/embed", "{\"model\":\"nope\",\"input\":\"x\"}"), 404,
        "model \"nope\" not found, try pulling it first");
    SimGenerateTest.assertError(http.post("/api/embeddings", "{\"model\":\"nope\",\"prompt\":\"x\"}"), 404,
        "model \"nope\" not found, try pulling it first");
    SimGenerateTest.assertError(http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":[1]}"), 400,
        "invalid input type");
    SimGenerateTest.assertError(http.post("/api/embed", "{\"input\":\"x\"}"), 404, "model '' not found");
    assertEquals(5, sim.stats().requests());
    assertEquals(5, sim.stats().completed());
  }
}
