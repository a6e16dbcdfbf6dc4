package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Slots, cold loads, the pending queue, eviction, keep-alive and cancellation. */
@ExtendWith(VertxExtension.class)
class SimSchedulerTest {

  private static String gen(String model, int tokens) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"hello\",\"options\":{\"num_predict\":" + tokens + "}}";
  }

  private static List<String> loaded(SimHttp http) {
    JsonArray models = http.get("/api/ps").json().getJsonArray("models");
    return models.stream().map(m -> ((JsonObject) m).getString("name")).sorted().toList();
  }

  @Test
  void noHeadersBeforeTheFirstTokenWhileLoading(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withLoadMs(600).withTokensPerSecond(50));
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply cold = http.post("/api/generate", gen("llama3.2", 3));
    assertTrue(cold.headMillis() >= 550, "head after " + cold.headMillis() + " ms, load takes 600");
    assertEquals(200, cold.status());
    assertTrue(cold.jsonLines().get(3).getLong("load_duration") >= 550_000_000L);
    SimHttp.Reply warm = http.post("/api/generate", gen("llama3.2", 3));
    assertTrue(warm.headMillis() < 550, "warm head after " + warm.headMillis() + " ms: no second load");
    assertEquals(1, sim.stats().coldLoads());
    SimHttp.Reply nonStream = http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false,"
        + "\"options\":{\"num_predict\":10}}");
    assertTrue(nonStream.headMillis() >= 180, "non-streamed head waits for the whole answer: " + nonStream.headMillis());
  }

  @Test
  void resetLoadsTheGivenModelsAtOnceAndUnloadsTheOthers(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withModels("llama3.2", "nomic-embed-text", "mistral")
        .withLoadMs(5_000));
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.await(sim.reset(List.of("llama3.2", "nomic-embed-text")));
    assertEquals(List.of("llama3.2:latest", "nomic-embed-text:latest"), loaded(http));
    SimHttp.Reply warm = http.post("/api/generate", gen("llama3.2", 2));
    assertEquals(200, warm.status());
    assertTrue(warm.headMillis() < 2_500, "a reset model answers without a load: head after " + warm.headMillis() + " ms");
    assertEquals(200, http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":\"x\"}").status());
    assertEquals(0, sim.stats().coldLoads(), "a reset is not a cold load");
    SimHttp.await(sim.reset(List.of("mistral")));
    assertEquals(List.of("mistral:latest"), loaded(http));
    Throwable unknown = SimHttp.await(sim.reset(List.of("phi3")).transform(ar -> Future.succeededFuture(ar.cause())));
    assertEquals("sim 'sim' has no model 'phi3'", unknown.getMessage());
    assertEquals(List.of("mistral:latest"), loaded(http), "a failed reset changes nothing");
  }

  @Test
  void fullPendingQueueGets503(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withLoadMs(5_000).withMaxQueue(1));
    SimHttp http = new SimHttp(vertx, sim.port());
    Future<SimHttp.Reply> loading = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 1));
    SimHttp.awaitTrue("first request loading", () -> sim.stats().active() == 1);
    Future<SimHttp.Reply> queued = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 1));
    SimHttp.awaitTrue("second request queued", () -> sim.stats().active() == 2);
    SimHttp.Reply busy = http.post("/api/generate", gen("llama3.2", 1));
    assertEquals(503, busy.status());
    assertEquals("server busy, please try again.  maximum pending requests exceeded", busy.json().getString("error"));
    SimHttp.Reply v1 = http.post("/v1/chat/completions",
        "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertEquals(503, v1.status());
    assertEquals("api_error", v1.json().getJsonObject("error").getString("type"));
    assertEquals(2, sim.stats().requests());
    assertTrue(!loading.isComplete() && !queued.isComplete());
    SimHttp.await(sim.close());
  }

  @Test
  void oneSlotSerializesTwoSlotsOverlap(Vertx vertx) {
    for (int parallel : new int[] {1, 2}) {
      OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(25).withParallel(parallel));
      SimHttp http = new SimHttp(vertx, sim.port());
      http.post("/api/generate", "{\"model\":\"llama3.2\"}");
      Future<SimHttp.Reply> a = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 6));
      Future<SimHttp.Reply> b = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 6));
      SimHttp.Reply ra = SimHttp.await(a);
      SimHttp.Reply rb = SimHttp.await(b);
      long firstOfLater = Math.max(ra.lineNanos().get(0), rb.lineNanos().get(0));
      long lastOfEarlier = Math.min(ra.endNanos(), rb.endNanos());
      if (parallel == 1) {
        assertTrue(firstOfLater >= lastOfEarlier, "one slot: the second answer starts after the first ends");
      } else {
        assertTrue(firstOfLater < lastOfEarlier, "two slots: both answers stream at once");
      }
      SimHttp.await(sim.close());
    }
  }

  @Test
  void loadingBeyondMaxLoadedEvictsTheLeastRecentlyUsed(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withModels("llama3.2", "qwen2.5", "gemma3").withMaxLoaded(2));
    SimHttp http = new SimHttp(vertx, sim.port());
    http.post("/api/generate", gen("llama3.2", 1));
    http.post("/api/generate", gen("qwen2.5", 1));
    assertEquals(List.of("llama3.2:latest", "qwen2.5:latest"), loaded(http));
    http.post("/api/generate", gen("llama3.2", 1));
    http.post("/api/generate", gen("gemma3", 1));
    assertEquals(List.of("gemma3:latest", "llama3.2:latest"), loaded(http));
    assertEquals(3, sim.stats().coldLoads());
  }

  @Test
  void busyModelsAreNotEvictedUntilIdle(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withModels("llama3.2", "qwen2.5").withMaxLoaded(1)
        .withTokensPerSecond(20));
    SimHttp http = new SimHttp(vertx, sim.port());
    Future<SimHttp.Reply> busy = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 8));
    SimHttp.awaitTrue("first model generating", () -> sim.stats().coldLoads() == 1);
    SimHttp.Reply other = http.post("/api/generate", gen("qwen2.5", 1));
    SimHttp.Reply first = SimHttp.await(busy);
    assertTrue(other.lineNanos().get(0) >= first.endNanos() - 5_000_000,
        "the second model loads only after the busy one finished");
    assertEquals(List.of("qwen2.5:latest"), loaded(http));
  }

  @Test
  void keepAliveZeroUnloadsAfterTheAnswerAndShortKeepAliveExpires(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"keep_alive\":0,\"stream\":false}");
    SimHttp.awaitTrue("model unloaded", () -> loaded(http).isEmpty());
    http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"keep_alive\":\"1s\",\"stream\":false}");
    assertEquals(List.of("llama3.2:latest"), loaded(http));
    SimHttp.awaitTrue("keep-alive expired", () -> loaded(http).isEmpty());
    http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"keep_alive\":-1,\"stream\":false}");
    String expires = http.get("/api/ps").json().getJsonArray("models").getJsonObject(0).getString("expires_at");
    assertTrue(expires.startsWith("2318") || expires.startsWith("2319"), "forever is about 292 years: " + expires);
  }

  @Test
  void changingNumCtxReloads(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    http.post("/api/generate", gen("llama3.2", 1));
    http.post("/api/generate", gen("llama3.2", 1));
    assertEquals(1, sim.stats().coldLoads());
    http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"options\":{\"num_ctx\":8192}}");
    assertEquals(2, sim.stats().coldLoads());
    assertEquals(8192, http.get("/api/ps").json().getJsonArray("models").getJsonObject(0).getInteger("context_length"));
  }

  @Test
  void disconnectCancelsAndFreesTheSlot(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(20));
    SimHttp http = new SimHttp(vertx, sim.port());
    AtomicReference<HttpClientResponse> streaming = new AtomicReference<>();
    Future<SimHttp.Reply> cut = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 200), Map.of(),
        streaming::set);
    // A second request waits for the only slot; cutting it while queued must also clean up.
    AtomicReference<HttpClientResponse> ignored = new AtomicReference<>();
    Future<SimHttp.Reply> waiting = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 200), Map.of(),
        ignored::set);
    SimHttp.awaitTrue("first answer streaming", () -> streaming.get() != null);
    SimHttp.awaitTrue("second request waiting", () -> sim.stats().active() == 2);
    streaming.get().request().connection().close();
    SimHttp.awaitTrue("first canceled", () -> sim.stats().canceled() == 1);
    SimHttp.awaitTrue("second streaming", () -> ignored.get() != null);
    ignored.get().request().connection().close();
    SimHttp.awaitTrue("second canceled", () -> sim.stats().canceled() == 2 && sim.stats().active() == 0);
    SimHttp.awaitTrue("clients saw their connections close", () -> cut.isComplete() && waiting.isComplete());
    long start = System.nanoTime();
    SimHttp.Reply next = http.post("/api/generate", gen("llama3.2", 2));
    assertEquals(3, next.jsonLines().size());
    assertTrue((System.nanoTime() - start) / 1_000_000 < 1_000, "the freed slot serves the next request at once");
    assertEquals(1, sim.stats().completed());
  }

  @Test
  void disconnectWhileQueuedForALoadLeavesTheQueue(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withLoadMs(400).withMaxQueue(1));
    SimHttp http = new SimHttp(vertx, sim.port());
    Future<SimHttp.Reply> loading = http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 1));
    SimHttp.awaitTrue("loading", () -> sim.stats().active() == 1);
    http.send(HttpMethod.POST, "/api/generate", gen("llama3.2", 1));
    SimHttp.awaitTrue("queued", () -> sim.stats().active() == 2);
    SimHttp.await(http.client.close());
    SimHttp.awaitTrue("both canceled", () -> sim.stats().canceled() == 2 && sim.stats().active() == 0);
    SimHttp fresh = new SimHttp(vertx, sim.port());
    SimHttp.awaitTrue("load done", () -> fresh.get("/api/ps").json().getJsonArray("models").size() == 1);
    assertEquals(200, fresh.post("/api/generate", gen("llama3.2", 1)).status());
    SimHttp.awaitTrue("client saw its connection close", loading::isComplete);
  }
}
