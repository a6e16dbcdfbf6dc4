package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hivemesh.model.ModelName;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the mesh knows about a site's loaded models right after a request made it load one. */
class ColdLoadTest {

  private static String generate(String model) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";
  }

  @Test
  void aLoadAndTheEvictionItCausesReachTheMeshWithoutWaitingForTheNextPoll() {
    try (TestMesh mesh = new TestMesh()) {
      // One model at a time, and a periodic poll too slow to be what the test sees.
      mesh.add("site", SimOptions.defaults().withModels("llama3.2", "phi3").withMaxLoaded(1).withLoadMs(200)
          .withTokensPerSecond(0), "--inventory-interval", "60s");
      HiveNode front = mesh.add("front", SimOptions.defaults().withModels("other"), "--inventory-interval", "60s");
      mesh.awaitConverged();
      for (String model : new String[] {"llama3.2", "phi3"}) {
        HttpResponse<String> r = Http.post(front.httpPort(), "/api/generate", generate(model));
        assertEquals(200, r.statusCode(), r.body());
        Set<String> expected = Set.of(ModelName.key(model));
        TestMesh.awaitTrue("front sees only " + model + " loaded at the site", Duration.ofSeconds(10),
            () -> expected.equals(front.view().state("site").loaded()));
      }
    }
  }
}
