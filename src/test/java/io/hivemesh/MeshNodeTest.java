package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.model.ModelName;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three clustered nodes, each beside a simulated Ollama with different models. Every request goes
 * to {@code gamma}, whose own site holds only {@code phi3}, so everything else crosses the bus.
 */
class MeshNodeTest {

  static TestMesh mesh;
  static int gamma;

  @BeforeAll
  static void startMesh() {
    mesh = new TestMesh();
    SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(200).withParallel(2);
    mesh.add("alpha", base.withModels(List.of("llama3.2", "nomic-embed-text")));
    mesh.add("beta", base.withModels(List.of("mistral", "llama3.2")).withTokensPerSecond(20));
    mesh.add("gamma", base.withModels(List.of("phi3")));
    mesh.awaitConverged();
    gamma = mesh.port("gamma");
  }

  @AfterAll
  static void stopMesh() {
    mesh.close();
  }

  private static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  @Test
  void rootAndVersionAnswerLikeOllama() {
    HttpResponse<String> root = Http.get(gamma, "/");
    assertEquals(200, root.statusCode());
    assertEquals("Ollama is running", root.body());
    assertEquals("text/plain; charset=utf-8", root.headers().firstValue("content-type").orElse(""));
    assertEquals(200, Http.send(gamma, "HEAD", "/", null).statusCode());
    assertTrue(json(Http.get(gamma, "/api/version")).getString("version").matches("\\d+\\.\\d+\\.\\d+.*"));
  }

  @Test
  void tagsAreTheUnionOfAllSitesOneEntryPerModel() {
    HttpResponse<String> r = Http.get(gamma, "/api/tags");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
    List<String> names = json(r).getJsonArray("models").stream().map(o -> ((JsonObject) o).getString("name")).toList();
    assertEquals(List.of("llama3.2:latest", "mistral:latest", "nomic-embed-text:latest", "phi3:latest"), names);
    JsonObject first = json(r).getJsonArray("models").getJsonObject(0);
    assertTrue(first.containsKey("digest") && first.containsKey("details") && first.containsKey("size"));

    JsonObject v1 = json(Http.get(gamma, "/v1/models"));
    assertEquals("list", v1.getString("object"));
    assertEquals(4, v1.getJsonArray("data").size());
    assertEquals("model", v1.getJsonArray("data").getJsonObject(0).getString("object"));
    assertEquals(200, Http.get(gamma, "/v1/models/mistral").statusCode());
    assertEquals(404, Http.get(gamma, "/v1/models/nope").statusCode());
  }

  @Test
  void generateReachesTheOnlySiteWithTheModelAndEchoesTheName() {
    HttpResponse<String> r = Http.post(gamma, "/api/generate",
        "{\"model\":\"Mistral\",\"prompt\":\"hello\",\"stream\":false,\"options\":{\"num_predict\":3}}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("beta", r.headers().firstValue("x-hive-node").orElse(""));
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
    JsonObject body = json(r);
    assertEquals("Mistral", body.getString("model"));
    assertTrue(body.getBoolean("done"));
    assertFalse(body.getString("response").isEmpty());
  }

  @Test
  void chatStreamsTokenByTokenThroughARemoteHop() {
    // beta produces 20 tokens a second: 30 tokens take about 1.5 s to generate.
    long start = System.nanoTime();
    HttpResponse<java.util.stream.Stream<String>> r = Http.stream(gamma, "/api/chat",
        "{\"model\":\"mistral\",\"messages\":[{\"role\":\"user\",\"content\":\"count\"}],\"options\":{\"num_predict\":30}}");
    assertEquals(200, r.statusCode());
    assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElse(""));
    assertEquals("beta", r.headers().firstValue("x-hive-node").orElse(""));
    List<Long> arrivals = new ArrayList<>();
    List<JsonObject> lines = new ArrayList<>();
    r.body().forEach(line -> {
      arrivals.add(System.nanoTime() - start);
      lines.add(new JsonObject(line));
    });
    assertTrue(lines.size() >= 30, "got " + lines.size() + " lines");
    assertEquals("assistant", lines.get(0).getJsonObject("message").getString("role"));
    assertTrue(lines.get(lines.size() - 1).getBoolean("done"));
    long first = arrivals.get(0);
    long last = arrivals.get(arrivals.size() - 1);
    // Streaming, not buffering: the first chunk is with the client long before the last is generated.
    assertTrue(last - first > Duration.ofMillis(800).toNanos(),
        "first chunk at " + first / 1_000_000 + " ms, last at " + last / 1_000_000 + " ms");
  }

  @Test
  void everyNodeLearnsHowFastASiteAnswersFromItsAnswers() {
    HttpResponse<String> r = Http.post(gamma, "/api/generate",
        "{\"model\":\"mistral\",\"prompt\":\"count\",\"stream\":false,\"options\":{\"num_predict\":8}}");
    assertEquals(200, r.statusCode(), r.body());
    // beta's sim produces 20 tokens a second; beta measures it and publishes it with its load, for
    // the site and for the model.
    TestMesh.awaitTrue("gamma sees beta's measured speed", Duration.ofSeconds(10), () -> {
      SiteSpeed.Speeds speeds = mesh.nodes.get("gamma").view().state("beta").speed();
      double tps = speeds.site().tokensPerSecond();
      double mistral = speeds.models().getOrDefault(ModelName.key("mistral"), SiteSpeed.Measured.UNKNOWN).tokensPerSecond();
      return tps > 15 && tps < 25 && mistral > 15 && mistral < 25;
    });
  }

  @Test
  void embeddingsBothFlavours() {
    HttpResponse<String> r = Http.post(gamma, "/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":[\"a\",\"b\"]}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("alpha", r.headers().firstValue("x-hive-node").orElse(""));
    assertEquals(2, json(r).getJsonArray("embeddings").size());
    HttpResponse<String> legacy = Http.post(gamma, "/api/embeddings", "{\"model\":\"nomic-embed-text\",\"prompt\":\"a\"}");
    assertEquals(200, legacy.statusCode(), legacy.body());
    assertFalse(json(legacy).getJsonArray("embedding").isEmpty());
  }

  @Test
  void showIsRoutedLikeInference() {
    HttpResponse<String> r = Http.post(gamma, "/api/show", "{\"model\":\"nomic-embed-text\"}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(json(r).containsKey("details"));
  }

  @Test
  void openAiLayerIsRelayedIncludingServerSentEvents() {
    HttpResponse<String> sse = Http.post(gamma, "/v1/chat/completions",
        "{\"model\":\"mistral\",\"stream\":true,\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, sse.statusCode(), sse.body());
    assertTrue(sse.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    assertTrue(sse.body().startsWith("data: {"));
    assertTrue(sse.body().trim().endsWith("data: [DONE]"));

    HttpResponse<String> completion = Http.post(gamma, "/v1/completions",
        "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"max_tokens\":3}");
    assertEquals(200, completion.statusCode(), completion.body());
    HttpResponse<String> emb = Http.post(gamma, "/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":\"hi\"}");
    assertEquals(200, emb.statusCode(), emb.body());
    assertEquals("list", json(emb).getString("object"));

    HttpResponse<String> missing = Http.post(gamma, "/v1/chat/completions", "{\"model\":\"nope\",\"messages\":[]}");
    assertEquals(404, missing.statusCode());
    assertEquals("not_found_error", json(missing).getJsonObject("error").getString("type"));
  }

  @Test
  void errorsAreOllamasOwn() {
    HttpResponse<String> unknown = Http.post(gamma, "/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}");
    assertEquals(404, unknown.statusCode());
    assertEquals("model 'nope' not found", json(unknown).getString("error"));
    assertTrue(unknown.headers().firstValue("content-type").orElse("").startsWith("application/json"));

    assertEquals("model \"nope\" not found, try pulling it first",
        json(Http.post(gamma, "/api/embeddings", "{\"model\":\"nope\",\"prompt\":\"x\"}")).getString("error"));

    HttpResponse<String> noModel = Http.post(gamma, "/api/chat", "{\"messages\":[]}");
    assertEquals(400, noModel.statusCode());
    assertEquals("model is required", json(noModel).getString("error"));

    HttpResponse<String> genNoModel = Http.post(gamma, "/api/generate", "{\"prompt\":\"x\"}");
    assertEquals(404, genNoModel.statusCode());
    assertEquals("model '' not found", json(genNoModel).getString("error"));

    HttpResponse<String> bad = Http.post(gamma, "/api/chat", "{\"model\":");
    assertEquals(400, bad.statusCode());
    assertEquals("unexpected EOF", json(bad).getString("error"));

    HttpResponse<String> empty = Http.post(gamma, "/api/chat", "");
    assertEquals(400, empty.statusCode());
    assertEquals("missing request body", json(empty).getString("error"));

    HttpResponse<String> path = Http.get(gamma, "/api/nothing");
    assertEquals(404, path.statusCode());
    assertEquals("404 page not found", path.body());

    HttpResponse<String> method = Http.get(gamma, "/api/chat");
    assertEquals(405, method.statusCode());
    assertEquals("405 method not allowed", method.body());
  }

  @Test
  void aRequestMayPinItsSite() {
    HttpResponse<String> pinned = Http.post(gamma, "/api/generate",
        "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}", "X-Hive-Node", "beta");
    assertEquals(200, pinned.statusCode(), pinned.body());
    assertEquals("beta", pinned.headers().firstValue("x-hive-node").orElse(""));

    HttpResponse<String> lacks = Http.post(gamma, "/api/generate", "{\"model\":\"mistral\",\"prompt\":\"x\"}",
        "X-Hive-Node", "alpha");
    assertEquals(404, lacks.statusCode());
    assertEquals("model 'mistral' not found", json(lacks).getString("error"));

    HttpResponse<String> noSuchNode = Http.post(gamma, "/api/generate", "{\"model\":\"mistral\",\"prompt\":\"x\"}",
        "X-Hive-Node", "omega");
    assertEquals(404, noSuchNode.statusCode());
    assertEquals("node 'omega' is not in the mesh", json(noSuchNode).getString("error"));
  }

  @Test
  void nodesEndpointShowsTheMesh() {
    JsonArray nodes = json(Http.get(gamma, "/hive/nodes")).getJsonArray("nodes");
    assertEquals(List.of("alpha", "beta", "gamma"), nodes.stream().map(o -> ((JsonObject) o).getString("name")).toList());
    JsonObject beta = nodes.getJsonObject(1);
    assertTrue(beta.getJsonArray("models").contains("mistral:latest"));
    assertTrue(beta.containsKey("inflight") && beta.containsKey("loaded"));
  }

  @Test
  void modelManagementTargetsTheNamedSiteAndTheMeshLearnsOfIt() {
    HttpResponse<String> noTarget = Http.post(gamma, "/api/pull", "{\"model\":\"qwen2.5\"}");
    assertEquals(400, noTarget.statusCode());

    HttpResponse<String> pull = Http.post(mesh.port("alpha"), "/api/pull", "{\"model\":\"qwen2.5\"}", "X-Hive-Node", "gamma");
    assertEquals(200, pull.statusCode(), pull.body());
    assertEquals("gamma", pull.headers().firstValue("x-hive-node").orElse(""));
    List<String> statuses = pull.body().lines().map(l -> new JsonObject(l).getString("status")).collect(Collectors.toList());
    assertTrue(statuses.size() > 2, "progress streamed: " + statuses);
    assertEquals("success", statuses.get(statuses.size() - 1));

    awaitTrue("alpha lists the pulled model", Duration.ofSeconds(10),
        () -> Http.get(mesh.port("alpha"), "/api/tags").body().contains("qwen2.5:latest"));
    HttpResponse<String> gen = Http.post(mesh.port("alpha"), "/api/generate",
        "{\"model\":\"qwen2.5\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}");
    assertEquals(200, gen.statusCode(), gen.body());
    assertEquals("gamma", gen.headers().firstValue("x-hive-node").orElse(""));

    HttpResponse<String> delete = Http.send(mesh.port("alpha"), "DELETE", "/api/delete", "{\"model\":\"qwen2.5\"}",
        "X-Hive-Node", "gamma");
    assertEquals(200, delete.statusCode(), delete.body());
    awaitTrue("the deleted model leaves the mesh", Duration.ofSeconds(10),
        () -> !Http.get(mesh.port("alpha"), "/api/tags").body().contains("qwen2.5"));
  }

  @Test
  void aClientThatHangsUpCancelsTheWorkAtTheServingSite() throws Exception {
    long canceledBefore = mesh.sims.get("beta").stats().canceled();
    String body = "{\"model\":\"mistral\",\"prompt\":\"a long story\",\"options\":{\"num_predict\":400}}";
    try (Socket socket = new Socket("127.0.0.1", gamma)) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String line;
      boolean sawChunk = false;
      while ((line = in.readLine()) != null) {
        if (line.contains("\"response\"")) {
          sawChunk = true;
          break;
        }
      }
      assertTrue(sawChunk, "the stream started");
    }
    awaitTrue("beta's sim sees the request cancelled", Duration.ofSeconds(10),
        () -> mesh.sims.get("beta").stats().canceled() > canceledBefore);
    awaitTrue("beta's site has nothing in flight", Duration.ofSeconds(10),
        () -> mesh.sims.get("beta").stats().active() == 0
            && mesh.nodes.get("beta").view().nodesJson().getJsonArray("nodes").getJsonObject(1).getInteger("inflight") == 0);
  }
}
