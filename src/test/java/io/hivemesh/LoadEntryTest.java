package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What a site's load entry costs the cluster while nothing changes, and that peers still see every change. */
class LoadEntryTest {

  private static final SimOptions SIM = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(0);

  @Test
  void anIdleSiteRewritesItsEntryOnlyToKeepItAliveAndPeersStillSeeEveryChange() throws InterruptedException {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("llama3.2"));
      HiveNode b = mesh.add("b", SIM.withModels("mistral"));
      mesh.awaitConverged();
      IMap<String, String> load = a.hazelcast().getMap(MeshView.LOAD_MAP);
      AtomicInteger writes = new AtomicInteger();
      UUID listener = load.addEntryListener((EntryUpdatedListener<String, String>) e -> writes.incrementAndGet(), "b",
          false);

      // TestMesh's nodes check every 100 ms with a TTL of 1 s: 3 s is thirty checks and three TTLs.
      long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
      while (System.nanoTime() < until) {
        assertTrue(a.view().isLive("b"), "an idle site stays in its peers' rotation");
        Thread.sleep(20);
      }
      int idleWrites = writes.get();
      assertTrue(idleWrites <= 12, "an idle site rewrote its unchanged entry " + idleWrites
          + " times in 3 s: every check, not every third of its TTL");

      long servedBefore = a.view().state("b").served();
      assertEquals(200, Http.post(b.httpPort(), "/api/generate",
          "{\"model\":\"mistral\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}").statusCode());
      awaitTrue("a sees the request b served", Duration.ofSeconds(10),
          () -> a.view().state("b").served() > servedBefore);
      load.removeEntryListener(listener);
    }
  }
}
