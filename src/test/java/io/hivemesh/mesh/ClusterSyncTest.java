package io.hivemesh.mesh;

import static io.hivemesh.support.TestMesh.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
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
    Config config = new Config().setClusterName("cluster-sync-" + System.nanoTime());
    config.getNetworkConfig().setPort(TestMesh.freePort()).setPortAutoIncrement(false).getJoin().getMulticastConfig()
        .setEnabled(false);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast = Hazelcast.newHazelcastInstance(config);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    hazelcast.shutdown();
    await(vertx.close());
  }

  private static SiteState state(int inflight) {
    return new SiteState("lab", "node-a", 1, true, false, 1, 8, 8, inflight, Map.of(), Set.of("m"), 0);
  }

  @Test
  void aLoadChangeTheGapHoldsBackIsWrittenOnceTheGapHasPassedWithoutAnotherPublish() {
    AtomicReference<SiteState> own = new AtomicReference<>(state(0));
    SiteInventory inventory = new SiteInventory("lab", "0.13.0", List.of(), List.of());
    // A publish interval of a minute: no periodic check here to catch up for the held write.
    ClusterSync sync = new ClusterSync(vertx, hazelcast, new MeshView("lab", new LocalLoad(8)), "lab", 60_000, 60_000,
        own::get, () -> inventory, site -> { });
    IMap<String, String> load = hazelcast.getMap(MeshView.LOAD_MAP);
    List<Long> written = new CopyOnWriteArrayList<>();
    List<Integer> inflight = new CopyOnWriteArrayList<>();
    load.addEntryListener((EntryAddedListener<String, String>) e -> {
      written.add(System.nanoTime());
      inflight.add(SiteState.fromJson(new JsonObject(e.getValue())).inflight());
    }, "lab", true);
    load.addEntryListener((EntryUpdatedListener<String, String>) e -> {
      written.add(System.nanoTime());
      inflight.add(SiteState.fromJson(new JsonObject(e.getValue())).inflight());
    }, "lab", true);
    Context context = vertx.getOrCreateContext();

    long first = System.nanoTime();
    context.runOnContext(v -> sync.publish());
    TestMesh.awaitTrue("the first entry is written", Duration.ofSeconds(10), () -> written.size() == 1);
    own.set(state(1));
    context.runOnContext(v -> sync.publish());
    TestMesh.awaitTrue("the held load change is written", Duration.ofSeconds(10), () -> written.size() == 2);

    assertEquals(List.of(0, 1), inflight);
    long gapMs = (written.get(1) - first) / 1_000_000;
    assertTrue(gapMs >= 50, "the load change went out " + gapMs + " ms after the first write: before the gap");
    await(sync.stop());
  }
}
