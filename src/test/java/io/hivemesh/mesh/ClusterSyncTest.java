package io.hivemesh.mesh;

import static io.hivemesh.support.TestMesh.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.hivemesh.support.SoloHazelcast;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** How a node's own load entry reaches the cluster map: here a cluster of one member, so the gap is the least one. */
class ClusterSyncTest {

  static HazelcastInstance hazelcast;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    hazelcast = SoloHazelcast.start("cluster-sync");
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    hazelcast.shutdown();
    await(vertx.close());
  }

  private static SiteState state(boolean healthy, int inflight) {
    return new SiteState("lab", "node-a", 1, healthy, false, 1, 8, 8, inflight, Map.of(), Set.of("m"), 0);
  }

  @Test
  void aLoadChangeTheGapHoldsBackIsWrittenOnceTheGapHasPassedWithoutAnotherPublish() {
    AtomicReference<SiteState> own = new AtomicReference<>(state(true, 0));
    SiteInventory inventory = new SiteInventory("lab", "0.13.0", List.of(), List.of());
    // A publish interval of a minute: no periodic check here to catch up for the held write.
    ClusterSync sync = new ClusterSync(vertx, hazelcast, new MeshView("lab", new LocalLoad(8)), "lab", 60_000, 60_000,
        own::get, () -> inventory, site -> { });
    IMap<String, String> load = hazelcast.getMap(MeshView.LOAD_MAP);
    List<Long> writtenAt = new CopyOnWriteArrayList<>();
    List<SiteState> written = new CopyOnWriteArrayList<>();
    EntryAddedListener<String, String> added = e -> {
      writtenAt.add(System.nanoTime());
      written.add(SiteState.fromJson(new JsonObject(e.getValue())));
    };
    load.addEntryListener(added, "lab", true);
    load.addEntryListener((EntryUpdatedListener<String, String>) added::entryAdded, "lab", true);
    Context context = vertx.getOrCreateContext();

    // A change in health is written at once, whatever the gap: twenty of them warm the write path
    // up, so that one write takes far less than the gap.
    for (int i = 1; i <= 20; i++) {
      SiteState next = state(i % 2 == 0, 0);
      int before = written.size();
      context.runOnContext(v -> {
        own.set(next);
        sync.publish();
      });
      TestMesh.awaitTrue("a change in health is written", Duration.ofSeconds(10), () -> written.size() == before + 1);
    }

    // A change in health, written at once, then a load change right after it: held for the gap.
    int before = written.size();
    long healthWritten = System.nanoTime();
    context.runOnContext(v -> {
      own.set(state(false, 0));
      sync.publish();
      own.set(state(false, 1));
      sync.publish();
    });
    TestMesh.awaitTrue("the held load change is written", Duration.ofSeconds(10), () -> written.size() == before + 2);

    assertEquals(List.of(false, false), List.of(written.get(before).healthy(), written.get(before + 1).healthy()));
    assertEquals(List.of(0, 1), List.of(written.get(before).inflight(), written.get(before + 1).inflight()));
    long heldMs = (writtenAt.get(before + 1) - healthWritten) / 1_000_000;
    assertTrue(heldMs >= 50, "the load change went out " + heldMs + " ms after the previous write: inside the gap");
    await(sync.stop());
  }
}
