package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Starting, closing (a "dead Ollama"), and the instant mode used by benchmarks. */
@ExtendWith(VertxExtension.class)
class SimLifecycleTest {

  @Test
  void closeDropsOpenConnectionsAndStopsListening(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(20));
    SimHttp http = new SimHttp(vertx, sim.port());
    AtomicReference<HttpClientResponse> head = new AtomicReference<>();
    Future<SimHttp.Reply> streaming = http.send(HttpMethod.POST, "/api/generate",
        "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"options\":{\"num_predict\":500}}", Map.of(), head::set);
    SimHttp.awaitTrue("streaming", () -> head.get() != null);
    SimHttp.await(sim.close());
    SimHttp.awaitTrue("stream cut", () -> streaming.isComplete());
    assertTrue(streaming.failed() || streaming.result().jsonLines().size() < 500);
    Future<SimHttp.Reply> after = http.send(HttpMethod.GET, "/", null);
    SimHttp.awaitTrue("connect fails", after::isComplete);
    assertTrue(after.failed(), "nothing listens after close");
    assertEquals(1, sim.stats().canceled());
    SimHttp.await(sim.close());
  }

  @Test
  void instantModeAnswersManyRequestsQuickly(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withParallel(4));
    SimHttp http = new SimHttp(vertx, sim.port());
    int n = 400;
    long start = System.nanoTime();
    List<Future<SimHttp.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String body = i % 2 == 0
          ? "{\"model\":\"llama3.2\",\"prompt\":\"p" + i + "\"}"
          : "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],\"stream\":false}";
      replies.add(http.send(HttpMethod.POST, i % 2 == 0 ? "/api/generate" : "/api/chat", body));
    }
    SimHttp.await(Future.all(replies));
    long ms = (System.nanoTime() - start) / 1_000_000;
    for (Future<SimHttp.Reply> r : replies) {
      assertEquals(200, r.result().status());
    }
    assertEquals(n, sim.stats().completed());
    assertEquals(0, sim.stats().active());
    assertTrue(ms < 10_000, n + " instant answers took " + ms + " ms");
  }

  @Test
  void optionsHelpersCopyEveryField() {
    SimOptions o = SimOptions.defaults();
    assertEquals("127.0.0.1", o.host());
    assertEquals(11434, o.port());
    assertEquals(1, o.parallel());
    assertEquals(50, o.tokensPerSecond());
    assertEquals(1500, o.loadMs());
    assertEquals(3, o.maxLoaded());
    assertEquals(512, o.maxQueue());
    assertEquals(42, o.seed());
    SimOptions p = o.withHost("0.0.0.0").withPort(1).withName("n").withModels(List.of("a")).withParallel(2)
        .withTokensPerSecond(3).withLoadMs(4).withMaxLoaded(5).withMaxQueue(6).withSeed(7);
    assertEquals(new SimOptions("0.0.0.0", 1, "n", List.of("a"), 2, 3, 4, 5, 6, 7), p);
    SimOptions q = p.withModelSpeed("big:70b", 8).withSeed(9);
    assertEquals(8, q.tokensPerSecond(io.hivemesh.model.ModelName.key("big:70b")));
    assertEquals(3, q.tokensPerSecond(io.hivemesh.model.ModelName.key("a")), "the others at the sim's speed");
  }
}
