package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.hazelcast.map.IMap;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What a member removal and rejoin can leave behind in the cluster, and how the mesh gets over
 * it.
 */
class MeshRepairTest {

  private static final SimOptions SIM = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(0);

  private static String generate(String model) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";
  }

  @Test
  void theEntryOfANodeThatIsNoMemberPutsNoSiteInRotation() {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("llama3.2"));
      mesh.add("b", SIM.withModels("mistral"));
      mesh.awaitConverged();
      // What a removed member's late write, or a backup of it, looks like: b's entries under a node id no member has.
      IMap<String, String> load = a.hazelcast().getMap(MeshView.LOAD_MAP);
      IMap<String, String> inventory = a.hazelcast().getMap(MeshView.INVENTORY_MAP);
      String[] b = new String[2];
      awaitTrue("b's entries are in the cluster", Duration.ofSeconds(10), () -> {
        b[0] = load.get("b");
        b[1] = inventory.get("b");
        return b[0] != null && b[1] != null;
      });
      inventory.set("ghost", new JsonObject(b[1]).put("name", "ghost").encode());
      load.set("ghost", new JsonObject(b[0]).put("name", "ghost").put("node", UUID.randomUUID().toString())
          .encode());

      // Entry events arrive within milliseconds; ten publish intervals is plenty to see one taken.
      long until = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (System.nanoTime() < until) {
        for (HiveNode n : mesh.nodes.values()) {
          assertFalse(n.view().isLive("ghost"), n.name() + " put a site of no member in rotation");
          assertNull(n.view().state("ghost"), n.name() + " took the load of a site of no member");
        }
      }
      assertEquals(200, Http.post(a.httpPort(), "/api/generate", generate("mistral")).statusCode());
    }
  }
}
