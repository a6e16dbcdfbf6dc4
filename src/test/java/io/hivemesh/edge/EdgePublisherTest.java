package io.hivemesh.edge;

import static io.hivemesh.support.TestMesh.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.hazelcast.core.HazelcastInstance;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteInventory;
import io.hivemesh.mesh.SiteState;
import io.hivemesh.support.SoloHazelcast;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What an edge's attachments leave in the cluster maps when they come and go. */
class EdgePublisherTest {

  static HazelcastInstance hazelcast;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    hazelcast = SoloHazelcast.start("edge-publisher");
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    hazelcast.shutdown();
    await(vertx.close());
  }

  private static EdgePublisher publisher(Context context, MeshView view, String attachment) {
    SiteInventory inventory = new SiteInventory("lab-box", "0.13.0",
        List.of(new JsonObject().put("name", "gemma2:latest").put("model", "gemma2:latest")), List.of());
    SiteState state = new SiteState("lab-box", "node-a", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0, 0, 0, "a",
        attachment, 0);
    return new EdgePublisher(vertx, context, hazelcast, view, "lab-box", attachment, 60_000, () -> state,
        () -> inventory);
  }

  @Test
  void aWithdrawalThatLandsAfterTheEdgeReattachedLeavesTheNewEntriesAlone() {
    Context context = vertx.getOrCreateContext();
    MeshView view = new MeshView("a", new LocalLoad(8));
    EdgePublisher old = publisher(context, view, "att-1");
    EdgePublisher fresh = publisher(context, view, "att-2");
    context.runOnContext(v -> old.publish());
    TestMesh.awaitTrue("the first attachment is published", Duration.ofSeconds(10),
        () -> hazelcast.getMap(MeshView.INVENTORY_MAP).containsKey("lab-box"));
    context.runOnContext(v -> fresh.publish());
    // Inventory then load, same key, so the same partition in order: the load entry shows both landed.
    TestMesh.awaitTrue("the second attachment is published", Duration.ofSeconds(10),
        () -> String.valueOf(hazelcast.getMap(MeshView.LOAD_MAP).get("lab-box")).contains("att-2"));
    // The same models, announced again: the old withdrawal must still not take them for its own.
    await(Future.<Void>future(done -> context.runOnContext(v -> old.withdraw().onComplete(done))));
    assertNotNull(hazelcast.getMap(MeshView.INVENTORY_MAP).get("lab-box"), "the new attachment's inventory stays");
    assertNotNull(hazelcast.getMap(MeshView.LOAD_MAP).get("lab-box"), "and so does its load entry");
    assertEquals("att-2", SiteState.fromJson(new JsonObject(
        String.valueOf(hazelcast.getMap(MeshView.LOAD_MAP).get("lab-box")))).attachment());
  }
}
