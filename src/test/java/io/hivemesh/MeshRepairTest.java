package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.multimap.MultiMap;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What a member removal and rejoin can leave behind in the cluster, and how the mesh gets over
 * it: entries of a node that is no member, and the bus entries of a node that is.
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

  @Test
  void aNodeWhoseBusEntriesVanishedPublishesThemAgain() {
    try (TestMesh mesh = new TestMesh()) {
      HiveNode a = mesh.add("a", SIM.withModels("llama3.2"));
      HiveNode b = mesh.add("b", SIM.withModels("mistral"));
      mesh.awaitConverged();
      assertEquals(200, Http.post(a.httpPort(), "/api/generate", generate("mistral")).statusCode());

      // A peer's cleanup of b's previous incarnation, handled after b came back: b's bus address and inboxes go.
      HazelcastInstance hz = a.hazelcast();
      String bNode = b.hazelcast().getCluster().getLocalMember().getAttribute("__vertx.nodeId");
      hz.getMap("__vertx.nodeInfo").remove(bNode);
      MultiMap<String, Object> subs = hz.getMultiMap("__vertx.subs");
      for (int loop = 0; loop < b.config().eventLoops(); loop++) {
        subs.remove(io.hivemesh.mesh.SiteState.nodeInbox("b", loop));
      }
      // A node that joins now has no connection to b yet: it needs b's bus address.
      HiveNode c = mesh.add("c", SIM.withModels("phi3"));
      mesh.awaitConverged();

      for (HiveNode via : new HiveNode[] {a, c}) {
        @SuppressWarnings("unchecked")
        HttpResponse<String>[] last = new HttpResponse[1];
        awaitTrue("b's model is served via " + via.name() + " again", Duration.ofSeconds(30), () -> {
          last[0] = Http.post(via.httpPort(), "/api/generate", generate("mistral"));
          return last[0].statusCode() == 200;
        });
        assertEquals("b", last[0].headers().firstValue("X-Hive-Node").orElse(""));
      }
    }
  }
}
