package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hivemesh.model.ModelName;
import io.hivemesh.routing.Candidate;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cap a request puts on its answer steers it: with the fast site's one slot taken, a short
 * capped answer runs at once on the slow site, while an answer of unknown length waits for the
 * fast one.
 */
class AnswerCapRoutingTest {

  private static final String MODEL = "m";

  private static String generate(String options) {
    return "{\"model\":\"" + MODEL + "\",\"prompt\":\"x\",\"stream\":false" + options + "}";
  }

  @Test
  void aShortCappedAnswerTakesTheSlowFreeSlotAndAnUncappedOneQueuesAtTheFastSite() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    try (TestMesh mesh = new TestMesh()) {
      SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(1).withModels(MODEL);
      mesh.add("fast", sim.withTokensPerSecond(400));
      mesh.add("slow", sim.withTokensPerSecond(20));
      mesh.awaitConverged();
      int entry = mesh.port("fast");
      String key = ModelName.key(MODEL);

      // Each site loads the model and measures its speed from an answer's final line.
      for (String site : List.of("fast", "slow")) {
        HttpResponse<String> warm = Http.post(entry, "/api/generate", generate(",\"options\":{\"num_predict\":20}"),
            "X-Hive-Node", site);
        assertEquals(200, warm.statusCode(), warm.body());
      }
      awaitTrue("the entry knows both sites' speeds, the model loaded at both", Duration.ofSeconds(10), () -> {
        List<Candidate> sites = mesh.nodes.get("fast").view().candidates(key).sites();
        return sites.size() == 2 && sites.stream().allMatch(c -> c.loaded() && c.tokensPerSecond() > 0
            && c.modelInflight() == 0);
      });

      // A long answer takes the fast site's only slot (3 s at 400 tokens a second).
      HttpRequest longAnswer = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + entry + "/api/generate"))
          .header("X-Hive-Node", "fast")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"prompt\":\"x\","
              + "\"options\":{\"num_predict\":1200}}"))
          .build();
      HttpResponse<InputStream> held = client.send(longAnswer, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = held.body()) {
        assertEquals(200, held.statusCode());
        awaitTrue("the entry counts the fast site's slot taken", Duration.ofSeconds(10),
            () -> mesh.nodes.get("fast").view().candidates(key).sites().stream()
                .anyMatch(c -> c.site().equals("fast") && !c.hasFreeSlot()));

        // Five tokens: a quarter of a second on the slow site now, less than the fast site's queue.
        HttpResponse<String> capped = Http.post(entry, "/api/generate", generate(",\"options\":{\"num_predict\":5}"));
        assertEquals(200, capped.statusCode(), capped.body());
        assertEquals("slow", capped.headers().firstValue("x-hive-node").orElse(""));

        // No cap: the answer may be long, and at the slow site it would take seconds more than the wait.
        HttpResponse<String> uncapped = Http.post(entry, "/api/generate", generate(""));
        assertEquals(200, uncapped.statusCode(), uncapped.body());
        assertEquals("fast", uncapped.headers().firstValue("x-hive-node").orElse(""));
      }
    }
  }
}
