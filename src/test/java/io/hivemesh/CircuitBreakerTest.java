package io.hivemesh;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.mesh.SiteBreakers;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.FaultyOllama;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An Ollama that lists its models but answers every request with a 500: probes pass, requests fail. */
class CircuitBreakerTest {

  private static final String GENERATE = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";

  @Test
  void aSiteAnswering500sIsSkippedUntilATrialRequestSucceeds() {
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(0);
    try (TestMesh mesh = new TestMesh()) {
      OllamaSim badSim = await(OllamaSim.start(mesh.simVertx, sim.withModels("llama3.2").withName("bad").withPort(0)));
      FaultyOllama bad = await(FaultyOllama.start(mesh.simVertx, badSim.url()));
      mesh.addNode("bad", bad.url());
      mesh.add("good", sim.withModels("llama3.2"));
      // Round robin alternates the two sites, so the broken one is asked straight away.
      HiveNode front = mesh.add("front", sim.withModels("phi3"), "--strategy", "round-robin");
      mesh.awaitConverged();
      bad.fault(FaultyOllama.Fault.ERROR_500);

      for (int i = 0; i < 30; i++) {
        HttpResponse<String> r = Http.post(front.httpPort(), "/api/generate", GENERATE);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("good", r.headers().firstValue("X-Hive-Node").orElse(""));
      }
      assertEquals(SiteBreakers.State.OPEN, front.breakers().state("bad"));
      assertTrue(bad.inferenceRequests() <= 3, "once open, the broken site is left alone: it saw "
          + bad.inferenceRequests() + " requests");

      bad.fault(FaultyOllama.Fault.NONE);
      awaitTrue("a trial request closes the breaker", Duration.ofSeconds(30), () -> {
        Http.post(front.httpPort(), "/api/generate", GENERATE);
        return front.breakers().state("bad") == SiteBreakers.State.CLOSED;
      });
    }
  }
}
