package io.hivemesh;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.FaultyOllama;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sites going away under the mesh: their requests go elsewhere before any byte reaches a client. */
class FailoverTest {

  private static final String GENERATE = "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}";

  @Test
  void aStoppedOllamaCostsNoClientErrorsAndComesBackWhenItReturns() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withParallel(4)
          .withModels(List.of("llama3.2"));
      mesh.add("one", base);
      mesh.add("two", base);
      mesh.awaitConverged();
      int port = mesh.port("one");

      // Before anyone notices: the next requests through 'one' hit a refused connection and move on.
      OllamaSim stopped = mesh.sims.get("one");
      int simPort = stopped.port();
      await(stopped.close());
      Map<String, Integer> servedBy = new HashMap<>();
      for (int i = 0; i < 40; i++) {
        HttpResponse<String> r = Http.post(port, "/api/generate", GENERATE);
        assertEquals(200, r.statusCode(), r.body());
        servedBy.merge(r.headers().firstValue("x-hive-node").orElse("?"), 1, Integer::sum);
      }
      assertEquals(Map.of("two", 40), servedBy);

      // The site's health probe takes it out of every node's view...
      awaitTrue("site 'one' is out of rotation everywhere", Duration.ofSeconds(5), () -> mesh.nodes.values().stream()
          .allMatch(n -> !n.view().state("one").healthy()));

      // ...and puts it back when its Ollama returns.
      OllamaSim back = await(OllamaSim.start(mesh.simVertx, base.withName("one").withPort(simPort)));
      mesh.sims.put("one", back);
      awaitTrue("site 'one' is back", Duration.ofSeconds(5), () -> mesh.nodes.values().stream()
          .allMatch(n -> n.view().state("one").healthy()));
      awaitTrue("site 'one' serves again", Duration.ofSeconds(10), () ->
          "one".equals(Http.post(port, "/api/generate", GENERATE, "X-Hive-Node", "one").headers()
              .firstValue("x-hive-node").orElse("")));
    }
  }

  @Test
  void aCrashedNodeLeavesTheMeshAndItsModelsWithIt() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withParallel(4);
      mesh.add("keeper", base.withModels(List.of("llama3.2")));
      mesh.add("doomed", base.withModels(List.of("llama3.2", "mistral")));
      mesh.awaitConverged();
      int port = mesh.port("keeper");
      assertEquals(200, Http.post(port, "/api/generate", GENERATE.replace("llama3.2", "mistral")).statusCode());

      // A crash, not a goodbye: the member vanishes without leaving the cluster.
      mesh.nodes.get("doomed").hazelcast().getLifecycleService().terminate();
      mesh.nodes.remove("doomed").vertx().close();

      awaitTrue("keeper no longer lists 'mistral'", Duration.ofSeconds(15),
          () -> !Http.get(port, "/api/tags").body().contains("mistral"));
      HttpResponse<String> gone = Http.post(port, "/api/generate", GENERATE.replace("llama3.2", "mistral"));
      assertEquals(404, gone.statusCode());
      assertEquals("model 'mistral' not found", new JsonObject(gone.body()).getString("error"));
      for (int i = 0; i < 10; i++) {
        HttpResponse<String> r = Http.post(port, "/api/generate", GENERATE);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("keeper", r.headers().firstValue("x-hive-node").orElse(""));
      }
    }
  }

  @Test
  void aStaleModelNotFoundMovesOnToTheNextSite() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withParallel(4)
          .withModels(List.of("llama3.2"));
      mesh.add("stale", base);
      mesh.add("fresh", base);
      mesh.awaitConverged();
      // Deleted behind the mesh's back: until the next poll, 'stale' still advertises the model,
      // and being local it is the first choice of its own node.
      HttpResponse<String> deleted = Http.send(mesh.sims.get("stale").port(), "DELETE", "/api/delete",
          "{\"model\":\"llama3.2\"}");
      assertEquals(200, deleted.statusCode());
      HttpResponse<String> r = Http.post(mesh.port("stale"), "/api/generate", GENERATE);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("fresh", r.headers().firstValue("x-hive-node").orElse(""));
    }
  }

  @Test
  void whenEverySiteIsFullTheAnswerIs503WithRetryAfter() throws Exception {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions slow = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(5).withModels(List.of("llama3.2"));
      mesh.add("small", slow, "--max-inflight", "1");
      mesh.awaitConverged();
      int port = mesh.port("small");
      String longAnswer = "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"options\":{\"num_predict\":50}}";
      java.util.concurrent.CompletableFuture<HttpResponse<String>> first =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> Http.post(port, "/api/generate", longAnswer));
      awaitTrue("the only slot is taken", Duration.ofSeconds(5), () -> mesh.sims.get("small").stats().active() == 1);
      HttpResponse<String> refused = Http.post(port, "/api/generate", GENERATE);
      assertEquals(503, refused.statusCode());
      assertEquals("1", refused.headers().firstValue("retry-after").orElse(""));
      assertEquals("server busy, please try again.  maximum pending requests exceeded",
          new JsonObject(refused.body()).getString("error"));
      first.cancel(true);
    }
  }

  @Test
  void aSiteLostMidStreamEndsTheStreamWithAnErrorLineNotAHang() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions slow = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(20).withModels(List.of("mistral"));
      mesh.add("server", slow);
      mesh.add("front", slow.withModels(List.of("phi3")));
      mesh.awaitConverged();
      String body = "{\"model\":\"mistral\",\"prompt\":\"a long story\",\"options\":{\"num_predict\":400}}";
      for (String via : List.of("front", "server")) {
        HttpResponse<java.util.stream.Stream<String>> r = Http.stream(mesh.port(via), "/api/generate", body);
        assertEquals(200, r.statusCode(), () -> via + ": " + r.body().collect(java.util.stream.Collectors.joining()));
        java.util.Iterator<String> lines = r.body().iterator();
        assertEquals(false, new JsonObject(lines.next()).getBoolean("done"));
        // The serving site's Ollama dies mid-answer.
        OllamaSim sim = mesh.sims.get("server");
        int simPort = sim.port();
        await(sim.close());
        String last = null;
        while (lines.hasNext()) {
          last = lines.next();
          assertFalse(last.contains("\"done\":true"), "no done line after a failure: " + last);
        }
        assertTrue(last != null && new JsonObject(last).containsKey("error"), "ends with an error line, path via " + via + ": " + last);
        awaitTrue("the outage is noticed", Duration.ofSeconds(10), () -> !mesh.nodes.get("server").view().isLive("server"));
        mesh.sims.put("server", await(OllamaSim.start(mesh.simVertx, slow.withName("server").withPort(simPort))));
        awaitTrue("server is back", Duration.ofSeconds(10),
            () -> mesh.nodes.values().stream().allMatch(n -> n.view().isLive("server")));
      }
    }
  }

  @Test
  void anOllamaThatNeverAnswersIsLeftAfterTheFirstByteTimeout() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withModels(List.of("llama3.2"));
      OllamaSim hidden = await(OllamaSim.start(mesh.simVertx, base.withName("hung").withPort(0)));
      FaultyOllama hung = await(FaultyOllama.start(mesh.simVertx, hidden.url()));
      hung.fault(FaultyOllama.Fault.HANG_BEFORE_HEAD);
      mesh.addNode("hung", hung.url(), "--first-byte-timeout", "1s");
      mesh.add("good", base);
      mesh.awaitConverged();
      long start = System.nanoTime();
      // Through the hung site's own node: it is the first choice there (local, equally idle).
      HttpResponse<String> r = Http.post(mesh.port("hung"), "/api/generate", GENERATE);
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("good", r.headers().firstValue("x-hive-node").orElse(""));
      assertTrue(elapsedMs >= 900, "waited for the first-byte timeout, " + elapsedMs + " ms");
    }
  }

  @Test
  void anOllamaThatNeverAnswersAndHasNoPeerEndsIn504AfterTheFirstByteTimeout() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withModels(List.of("llama3.2"));
      OllamaSim hidden = await(OllamaSim.start(mesh.simVertx, base.withName("alone").withPort(0)));
      FaultyOllama hung = await(FaultyOllama.start(mesh.simVertx, hidden.url()));
      hung.fault(FaultyOllama.Fault.HANG_BEFORE_HEAD);
      mesh.addNode("alone", hung.url(), "--first-byte-timeout", "1s");
      mesh.awaitConverged();
      long start = System.nanoTime();
      HttpResponse<String> r = Http.post(mesh.port("alone"), "/api/generate", GENERATE);
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(504, r.statusCode(), r.body());
      assertEquals("site 'alone': Ollama did not answer within 1s", new JsonObject(r.body()).getString("error"));
      assertTrue(elapsedMs >= 900 && elapsedMs < 10_000, "answered at the first-byte timeout, " + elapsedMs + " ms");
    }
  }

  @Test
  void anOllamaThatHangsEntirelyIsTakenOutByItsProbeAndBackWhenItAnswers() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withParallel(4)
          .withModels(List.of("llama3.2"));
      OllamaSim hidden = await(OllamaSim.start(mesh.simVertx, base.withName("hung").withPort(0)));
      FaultyOllama hung = await(FaultyOllama.start(mesh.simVertx, hidden.url()));
      mesh.addNode("hung", hung.url());
      mesh.add("good", base);
      // Round robin alternates the two sites while both are in rotation.
      HiveNode front = mesh.add("front", base.withModels(List.of("phi3")), "--strategy", "round-robin");
      mesh.awaitConverged();
      // Accepts connections and requests, answers nothing, health probes included.
      hung.fault(FaultyOllama.Fault.HANG);
      awaitTrue("the probe takes the hung site out of rotation everywhere", Duration.ofSeconds(10),
          () -> mesh.nodes.values().stream().noneMatch(n -> n.view().state("hung").healthy()));
      int seen = hung.inferenceRequests();
      for (int i = 0; i < 10; i++) {
        HttpResponse<String> r = Http.post(front.httpPort(), "/api/generate", GENERATE);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("good", r.headers().firstValue("x-hive-node").orElse(""));
      }
      assertEquals(seen, hung.inferenceRequests(), "no request is sent to a site out of rotation");

      hung.fault(FaultyOllama.Fault.NONE);
      awaitTrue("the hung site is back in rotation once it answers", Duration.ofSeconds(10),
          () -> front.view().state("hung").healthy());
    }
  }

  @Test
  void aStreamThatGoesSilentEndsWithAnErrorLineAfterTheIdleLimit() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(20).withModels(List.of("mistral"));
      OllamaSim hidden = await(OllamaSim.start(mesh.simVertx, base.withName("silent").withPort(0)));
      FaultyOllama silent = await(FaultyOllama.start(mesh.simVertx, hidden.url()));
      silent.fault(FaultyOllama.Fault.SILENT_MID_STREAM);
      mesh.addNode("silent", silent.url(), "--stream-idle-timeout", "1s");
      mesh.add("front", base.withModels(List.of("phi3")));
      mesh.awaitConverged();
      HttpResponse<java.util.stream.Stream<String>> r = Http.stream(mesh.port("front"), "/api/generate",
          "{\"model\":\"mistral\",\"prompt\":\"x\",\"options\":{\"num_predict\":100}}");
      assertEquals(200, r.statusCode());
      List<String> lines = r.body().toList();
      assertEquals(false, new JsonObject(lines.get(0)).getBoolean("done"));
      String last = lines.get(lines.size() - 1);
      assertTrue(new JsonObject(last).getString("error", "").contains("the model stopped producing output"),
          "ends with an error line: " + last);
      assertFalse(String.join("\n", lines).contains("\"done\":true"));
    }
  }

  @Test
  void aSecondNodeWithATakenNameIsRefused() {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withModels(List.of("llama3.2"));
      mesh.add("twin", base);
      mesh.awaitConverged();
      AssertionError refused = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
          () -> mesh.addNode("twin", mesh.sims.get("twin").url()));
      assertTrue(String.valueOf(refused.getMessage()).contains("a node named 'twin' is already in the mesh"),
          String.valueOf(refused.getMessage()));
      assertEquals(200, Http.post(mesh.port("twin"), "/api/generate", GENERATE).statusCode());
    }
  }
}
