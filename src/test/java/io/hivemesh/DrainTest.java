package io.hivemesh;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A node leaving on purpose (SIGTERM, {@code POST /hive/drain}): nothing in flight is lost. */
class DrainTest {

  private static final SimOptions SIM = SimOptions.defaults().withLoadMs(0).withParallel(8).withTokensPerSecond(50);

  private static String generate(String model, int tokens) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"options\":{\"num_predict\":" + tokens + "}}";
  }

  private static JsonObject lastLine(HttpResponse<String> r) {
    List<String> lines = r.body().lines().toList();
    return new JsonObject(lines.get(lines.size() - 1));
  }

  @Test
  void aDrainingNodeFinishesWhatItServesTakesNoNewWorkAndLeaves() {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("llama3.2", "mistral"));
      HiveNode b = mesh.add("b", SIM.withModels("llama3.2"));
      mesh.awaitConverged();
      // Two 2-second answers from a's Ollama: one asked at a, one asked at b and carried over the bus.
      CompletableFuture<HttpResponse<String>> local =
          CompletableFuture.supplyAsync(() -> Http.post(a.httpPort(), "/api/generate", generate("mistral", 100)));
      CompletableFuture<HttpResponse<String>> remote =
          CompletableFuture.supplyAsync(() -> Http.post(b.httpPort(), "/api/generate", generate("mistral", 100)));
      awaitTrue("both answers are being generated", Duration.ofSeconds(10),
          () -> mesh.sims.get("a").stats().active() == 2);

      io.vertx.core.Future<Void> drained = a.drain();

      HttpResponse<String> refused = Http.post(a.httpPort(), "/api/generate", generate("llama3.2", 1));
      assertEquals(503, refused.statusCode());
      assertEquals("node 'a' is draining; send requests to another node", new JsonObject(refused.body()).getString("error"));
      assertTrue(refused.headers().firstValue("Retry-After").isPresent());
      awaitTrue("b takes a out of rotation", Duration.ofSeconds(2), () -> !b.view().isLive("a"));
      HttpResponse<String> elsewhere = Http.post(b.httpPort(), "/api/generate", generate("llama3.2", 1));
      assertEquals(200, elsewhere.statusCode());
      assertEquals("b", elsewhere.headers().firstValue("X-Hive-Node").orElse(""));

      for (HttpResponse<String> r : List.of(local.join(), remote.join())) {
        assertEquals(200, r.statusCode());
        assertEquals(true, lastLine(r).getBoolean("done"), "an answer in flight finishes: " + r.body());
      }
      await(drained);
      awaitTrue("b sees a gone", Duration.ofSeconds(10), () -> b.view().state("a") == null);
      assertEquals(404, Http.post(b.httpPort(), "/api/generate", generate("mistral", 1)).statusCode(),
          "a's only model left with it");
    }
  }

  @Test
  void theDrainTimeoutBoundsHowLongAnAnswerMayHoldTheNode() {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("mistral"), "--drain-timeout", "1s");
      mesh.awaitConverged();
      CompletableFuture<HttpResponse<String>> longAnswer =
          CompletableFuture.supplyAsync(() -> Http.post(a.httpPort(), "/api/generate", generate("mistral", 1000)));
      awaitTrue("the answer is being generated", Duration.ofSeconds(10), () -> mesh.sims.get("a").stats().active() == 1);
      long start = System.nanoTime();
      await(a.drain());
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "the node left within its timeout");
      HttpResponse<String> cut = longAnswer.join();
      assertEquals(200, cut.statusCode());
      assertNull(lastLine(cut).getValue("done"), "a cut-off answer does not pretend to be complete: " + cut.body());
    }
  }

  @Test
  void anAdminCanDrainANodeOverHttp() {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("mistral"));
      mesh.add("b", SIM.withModels("mistral"));
      mesh.awaitConverged();
      HttpResponse<String> r = Http.post(a.httpPort(), "/hive/drain", "");
      assertEquals(202, r.statusCode());
      assertEquals("draining", new JsonObject(r.body()).getString("status"));
      await(a.drained());
      HiveNode b = mesh.nodes.get("b");
      awaitTrue("b sees a gone", Duration.ofSeconds(10), () -> b.view().state("a") == null);
      assertEquals(200, Http.post(b.httpPort(), "/api/generate", generate("mistral", 1)).statusCode());
    }
  }
}
