package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.model.ModelName;
import io.hivemesh.routing.Candidate;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A site is as fast as the model it runs: a GPU that answers a small model at 400 tokens a second
 * runs a large one at 10, and a request for the large model belongs on a site that runs that model
 * faster, however fast the GPU is with the small one. Sites measure and publish their speed per
 * model, and the entry prices each request at the speed of its own model.
 */
class ModelSpeedRoutingTest {

  private static final String SMALL = "small";
  private static final String LARGE = "large";

  private static String generate(String model, int tokens) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":" + tokens + "}}";
  }

  @Test
  void aRequestGoesWhereItsOwnModelRunsFastestNotWhereTheSiteIsFastestOverall() throws Exception {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(1);
      mesh.add("gpu", sim.withModels(SMALL, LARGE).withTokensPerSecond(400).withModelSpeed(LARGE, 10));
      mesh.add("cpu", sim.withModels(LARGE).withTokensPerSecond(80));
      mesh.add("entry", sim.withModels("other"));
      mesh.awaitConverged();
      int entry = mesh.port("entry");

      // Each site runs the large model once; then the GPU answers the small one, over and over,
      // so that its speed over all answers is far above the CPU's.
      assertEquals(200, Http.post(entry, "/api/generate", generate(LARGE, 4), "X-Hive-Node", "gpu").statusCode());
      assertEquals(200, Http.post(entry, "/api/generate", generate(LARGE, 8), "X-Hive-Node", "cpu").statusCode());
      for (int i = 0; i < 5; i++) {
        assertEquals(200, Http.post(entry, "/api/generate", generate(SMALL, 20), "X-Hive-Node", "gpu").statusCode());
      }
      String large = ModelName.key(LARGE);
      awaitTrue("the entry has both sites' speeds for the large model and the GPU's for the small one",
          Duration.ofSeconds(10), () -> {
            Map<String, Double> tps = speeds(mesh, large);
            List<Candidate> small = mesh.nodes.get("entry").view().candidates(ModelName.key(SMALL)).sites();
            return tps.size() == 2 && tps.values().stream().allMatch(v -> v > 0)
                && small.size() == 1 && small.get(0).tokensPerSecond() > 100
                && mesh.nodes.get("entry").view().candidates(large).sites().stream()
                    .allMatch(c -> c.loaded() && c.modelInflight() == 0);
          });
      Map<String, Double> tps = speeds(mesh, large);
      // Late timers only make an answer slower, so the GPU's figure is at most 10; the CPU's is 80 on
      // an idle machine, and well above the GPU's on a busy one.
      assertTrue(tps.get("gpu") <= 10.5 && tps.get("cpu") > 2 * tps.get("gpu"),
          "large-model speeds as the entry sees them: " + tps);

      // Both idle with the model loaded: the CPU runs it eight times as fast.
      HttpResponse<String> answer = Http.post(entry, "/api/generate", generate(LARGE, 4));
      assertEquals(200, answer.statusCode(), answer.body());
      assertEquals("cpu", answer.headers().firstValue("x-hive-node").orElse(""));
    }
  }

  private static Map<String, Double> speeds(TestMesh mesh, String modelKey) {
    return mesh.nodes.get("entry").view().candidates(modelKey).sites().stream()
        .collect(Collectors.toMap(Candidate::site, Candidate::tokensPerSecond));
  }
}
