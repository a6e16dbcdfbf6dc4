package io.hivemesh.sim;

import io.hivemesh.model.ModelName;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.OffsetDateTime;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Routes, shapes and content types of the read-only endpoints, and the router's own answers. */
@ExtendWith(VertxExtension.class)
class SimRoutesTest {

  private OllamaSim sim;
  private SimHttp http;

  @BeforeEach
  void start(Vertx vertx) {
    sim = SimHttp.start(vertx, SimHttp.fast().withModels("llama3.2", "nomic-embed-text", "qwen2.5:0.5b"));
    http = new SimHttp(vertx, sim.port());
  }

  @Test
  void rootAnswersPlainTextForGetAndHead() {
    SimHttp.Reply get = http.get("/");
    assertEquals(200, get.status());
    assertEquals("text/plain; charset=utf-8", get.header("Content-Type"));
    assertEquals("Ollama is running", get.body());
    SimHttp.Reply head = http.call(HttpMethod.HEAD, "/", null);
    assertEquals(200, head.status());
    assertEquals("17", head.header("Content-Length"));
    assertEquals("", head.body());
    assertTrue(sim.url().startsWith("http://127.0.0.1:") && sim.port() > 0);
  }

  @Test
  void versionAndTagsAreJson() {
    SimHttp.Reply version = http.get("/api/version");
    assertEquals("application/json; charset=utf-8", version.header("Content-Type"));
    assertEquals(NativeApi.VERSION, version.json().getString("version"));
    assertEquals(200, http.call(HttpMethod.HEAD, "/api/version", null).status());

    SimHttp.Reply tags = http.get("/api/tags");
    assertEquals("application/json; charset=utf-8", tags.header("Content-Type"));
    JsonArray models = tags.json().getJsonArray("models");
    assertEquals(3, models.size());
    JsonObject first = models.getJsonObject(0);
    assertEquals("llama3.2:latest", first.getString("name"));
    assertEquals("llama3.2:latest", first.getString("model"));
    assertTrue(first.getLong("size") > 1_000_000_000L);
    assertTrue(first.getString("digest").matches("[0-9a-f]{64}"));
    assertEquals(SimModel.sha256Hex("model:" + ModelName.parse("llama3.2").key()), first.getString("digest"));
    OffsetDateTime.parse(first.getString("modified_at"));
    JsonObject details = first.getJsonObject("details");
    assertEquals("", details.getString("parent_model"));
    assertEquals("gguf", details.getString("format"));
    assertEquals("llama", details.getString("family"));
    assertEquals(new JsonArray().add("llama"), details.getJsonArray("families"));
    assertEquals("3.2B", details.getString("parameter_size"));
    assertEquals("Q4_K_M", details.getString("quantization_level"));
    assertEquals("500M", models.getJsonObject(2).getJsonObject("details").getString("parameter_size"));
    assertEquals("nomic-bert", models.getJsonObject(1).getJsonObject("details").getString("family"));

    SimHttp.Reply head = http.call(HttpMethod.HEAD, "/api/tags", null);
    assertEquals(200, head.status());
    assertEquals(String.valueOf(tags.body().length()), head.header("Content-Length"));
  }

  @Test
  void emptyListsAreArraysNotNull() {
    assertEquals("{\"models\":[]}", http.get("/api/ps").body());
    http.call(HttpMethod.DELETE, "/api/delete", "{\"model\":\"llama3.2\"}");
    http.call(HttpMethod.DELETE, "/api/delete", "{\"model\":\"nomic-embed-text\"}");
    http.call(HttpMethod.DELETE, "/api/delete", "{\"model\":\"qwen2.5:0.5b\"}");
    assertEquals("{\"models\":[]}", http.get("/api/tags").body());
  }

  @Test
  void psListsLoadedModelsWithExpiry() {
    http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"keep_alive\":\"10m\"}");
    http.post("/api/generate", "{\"model\":\"qwen2.5:0.5b\",\"prompt\":\"hi\",\"stream\":false,\"keep_alive\":60}");
    JsonArray ps = http.get("/api/ps").json().getJsonArray("models");
    assertEquals(2, ps.size());
    JsonObject first = ps.getJsonObject(0);
    assertEquals("llama3.2:latest", first.getString("name"), "longest expiry first");
    assertEquals("llama3.2:latest", first.getString("model"));
    assertTrue(first.getLong("size") > 0);
    assertEquals(first.getLong("size"), first.getLong("size_vram"));
    assertEquals(RunOptions.DEFAULT_CONTEXT, first.getInteger("context_length"));
    assertEquals("llama", first.getJsonObject("details").getString("family"));
    OffsetDateTime expires = OffsetDateTime.parse(first.getString("expires_at"));
    assertTrue(expires.isAfter(OffsetDateTime.now().plusMinutes(9)));
    assertTrue(OffsetDateTime.parse(ps.getJsonObject(1).getString("expires_at")).isBefore(expires));
  }

  @Test
  void showDescribesTheModel() {
    SimHttp.Reply show = http.post("/api/show", "{\"model\":\"llama3.2\"}");
    assertEquals(200, show.status());
    JsonObject body = show.json();
    assertTrue(body.getString("modelfile").contains("FROM "));
    assertTrue(body.containsKey("parameters") && body.containsKey("template"));
    assertEquals("llama", body.getJsonObject("details").getString("family"));
    assertEquals(131072, body.getJsonObject("model_info").getInteger("llama.context_length"));
    assertEquals(new JsonArray().add("completion").add("tools"), body.getJsonArray("capabilities"));
    OffsetDateTime.parse(body.getString("modified_at"));
    assertEquals(new JsonArray().add("embedding"),
        http.post("/api/show", "{\"name\":\"nomic-embed-text\"}").json().getJsonArray("capabilities"));
    SimHttp.Reply missing = http.post("/api/show", "{\"model\":\"nope\"}");
    assertEquals(404, missing.status());
    assertEquals("model 'nope:latest' not found", missing.json().getString("error"));
    assertEquals("model is required", http.post("/api/show", "{}").json().getString("error"));
  }

  @Test
  void unknownPathsAndWrongMethodsGetGinsPlainAnswers() {
    SimHttp.Reply notFound = http.get("/api/nothing");
    assertEquals(404, notFound.status());
    assertEquals("text/plain", notFound.header("Content-Type"));
    assertEquals("404 page not found", notFound.body());

    SimHttp.Reply wrong = http.get("/api/generate");
    assertEquals(405, wrong.status());
    assertEquals("text/plain", wrong.header("Content-Type"));
    assertEquals("405 method not allowed", wrong.body());
    assertEquals("POST", wrong.header("Allow"));
    assertEquals("HEAD, GET", http.post("/api/tags", "{}").header("Allow"));
    assertEquals(405, http.call(HttpMethod.HEAD, "/api/ps", null).status());
    assertEquals(405, http.post("/v1/models", "{}").status());
    assertEquals(405, http.call(HttpMethod.POST, "/api/delete", "{}").status());
  }

  @Test
  void trailingSlashRedirects() {
    SimHttp.Reply get = http.get("/api/tags/");
    assertEquals(301, get.status());
    assertEquals("/api/tags", get.header("Location"));
    SimHttp.Reply post = http.post("/api/chat/", "{}");
    assertEquals(307, post.status());
    assertEquals("/api/chat", post.header("Location"));
  }

  @Test
  void oversizedBodiesAreRefusedBeforeReading(Vertx vertx) {
    Promise<String> answer = Promise.promise();
    Buffer received = Buffer.buffer();
    // Held to the end: Vert.x 5 shuts down a client nobody references, and its connection with it.
    NetClient client = vertx.createNetClient();
    client.connect(sim.port(), "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        answer.fail(ar.cause());
        return;
      }
      NetSocket socket = ar.result();
      socket.handler(received::appendBuffer);
      socket.closeHandler(v -> answer.tryComplete(received.toString()));
      socket.write("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + (SimServer.MAX_BODY + 1)
          + "\r\n\r\n{\"model\":");
    });
    String response = SimHttp.await(answer.future());
    client.close();
    assertTrue(response.startsWith("HTTP/1.1 413"), response);
    assertTrue(response.endsWith("{\"error\":\"http: request body too large\"}"), response);
  }

  @Test
  void nonLocalHostAndForeignOriginAreRefused() {
    SimHttp.Reply host = SimHttp.await(http.send(HttpMethod.GET, "/api/tags", null,
        Map.of("Host", "example.com:11434"), r -> { }));
    assertEquals(403, host.status());
    assertEquals("", host.body());
    assertEquals(200, SimHttp.await(http.send(HttpMethod.GET, "/api/tags", null,
        Map.of("Host", "localhost:11434"), r -> { })).status());
    assertEquals(200, SimHttp.await(http.send(HttpMethod.GET, "/api/tags", null,
        Map.of("Host", "10.1.2.3:11434"), r -> { })).status());

    SimHttp.Reply origin = SimHttp.await(http.send(HttpMethod.GET, "/api/version", null,
        Map.of("Origin", "https://evil.example"), r -> { }));
    assertEquals(403, origin.status());
    SimHttp.Reply allowed = SimHttp.await(http.send(HttpMethod.GET, "/api/version", null,
        Map.of("Origin", "http://localhost:5173"), r -> { }));
    assertEquals(200, allowed.status());
    assertEquals("http://localhost:5173", allowed.header("Access-Control-Allow-Origin"));
    SimHttp.Reply preflight = SimHttp.await(http.send(HttpMethod.OPTIONS, "/api/chat", null,
        Map.of("Origin", "http://localhost:5173", "Access-Control-Request-Method", "POST"), r -> { }));
    assertEquals(204, preflight.status());
    assertTrue(preflight.header("Access-Control-Allow-Methods").contains("POST"));
    assertNull(http.get("/api/version").header("Access-Control-Allow-Origin"));
  }
}
