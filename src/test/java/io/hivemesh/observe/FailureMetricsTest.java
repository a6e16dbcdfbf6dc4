package io.hivemesh.observe;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.HiveNode;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.FaultyOllama;
import io.hivemesh.support.Http;
import io.hivemesh.support.Scrape;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What an operator sees when things go wrong: a failing site's breaker and failovers, a draining node's probe. */
class FailureMetricsTest {

  private static final String GENERATE = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";

  static Scrape scrape(HiveNode node) {
    return new Scrape(Http.get(node.httpPort(), "/metrics").body());
  }

  static String siteState(HiveNode node, String site) {
    JsonObject mesh = new JsonObject(Http.get(node.httpPort(), "/hive/mesh").body());
    return mesh.getJsonArray("sites").stream().map(JsonObject.class::cast).filter(s -> s.getString("name").equals(site))
        .map(s -> s.getString("state")).findFirst().orElse("absent");
  }

  @Test
  void aFailingSiteShowsAsAnOpenBreakerAndFailovers() {
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(0);
    try (TestMesh mesh = new TestMesh()) {
      OllamaSim badSim = await(OllamaSim.start(mesh.simVertx, sim.withModels("llama3.2").withName("bad").withPort(0)));
      FaultyOllama bad = await(FaultyOllama.start(mesh.simVertx, badSim.url()));
      mesh.addNode("bad", bad.url());
      mesh.add("good", sim.withModels("llama3.2"));
      HiveNode front = mesh.add("front", sim.withModels("phi3"), "--strategy", "round-robin");
      mesh.awaitConverged();
      assertEquals(0, scrape(front).sum("hive_site_breaker_state", "site", "bad"));
      assertEquals("up", siteState(front, "bad"));

      bad.fault(FaultyOllama.Fault.ERROR_500);
      for (int i = 0; i < 12; i++) {
        HttpResponse<String> r = Http.post(front.httpPort(), "/api/generate", GENERATE);
        assertEquals(200, r.statusCode(), r.body());
      }
      Scrape after = scrape(front);
      assertEquals(1, after.sum("hive_site_breaker_state", "site", "bad"), "breaker of 'bad' not open:\n" + after.text);
      assertEquals(0, after.sum("hive_site_breaker_state", "site", "good"));
      // Every request 'bad' got failed with a 500 and went on to 'good'.
      assertTrue(bad.inferenceRequests() >= 3);
      assertEquals(bad.inferenceRequests(), after.sum("hive_failovers_total", "site", "bad", "model", "llama3.2:latest"));
      assertEquals(12, after.sum("hive_requests_total", "endpoint", "/api/generate", "status", "200"));
      // Probes still pass there: the page calls it suspect, not down.
      assertEquals("suspect", siteState(front, "bad"));

      bad.fault(FaultyOllama.Fault.NONE);
      awaitTrue("a trial request closes the breaker and the gauge says so", Duration.ofSeconds(30), () -> {
        Http.post(front.httpPort(), "/api/generate", GENERATE);
        return scrape(front).sum("hive_site_breaker_state", "site", "bad") == 0;
      });
    }
  }

  @Test
  void aDrainingNodeIsNotReadyButAlive() {
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(2);
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", sim.withModels("llama3.2"));
      HiveNode slow = mesh.add("slow", sim.withModels("phi3").withTokensPerSecond(5), "--drain-timeout", "5s");
      mesh.awaitConverged();
      assertEquals(200, Http.get(slow.httpPort(), "/hive/ready").statusCode());

      HttpResponse<Stream<String>> running = Http.stream(slow.httpPort(), "/api/generate",
          "{\"model\":\"phi3\",\"prompt\":\"go on\",\"options\":{\"num_predict\":200}}");
      Iterator<String> lines = running.body().iterator();
      assertTrue(lines.hasNext(), "the answer started");
      lines.next();
      slow.drain();
      HttpResponse<String> ready = Http.get(slow.httpPort(), "/hive/ready");
      assertEquals(503, ready.statusCode(), ready.body());
      assertEquals("draining", new JsonObject(ready.body()).getString("reason"));
      assertEquals(200, Http.get(slow.httpPort(), "/hive/health").statusCode());
      awaitTrue("the other node sees the site draining", Duration.ofSeconds(10), () -> "draining".equals(siteState(a, "slow")));
      running.body().close();
    }
  }
}
