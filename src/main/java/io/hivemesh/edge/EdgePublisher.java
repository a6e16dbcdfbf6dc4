package io.hivemesh.edge;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.hivemesh.mesh.LoadRefresh;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteInventory;
import io.hivemesh.mesh.SiteState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes an attached edge's site in the cluster maps and this node's view, the way
 * {@link io.hivemesh.mesh.ClusterSync} publishes the node's own: load with a TTL of
 * {@code entry-ttl} when it changes and every third of it ({@link LoadRefresh}), inventory when it
 * changes and every TTL, at most one write per map in flight.
 * Withdrawing removes the entries only while they are still this attachment's, so a node that lost
 * the edge to another one never deletes what the other one wrote. Both entries name the attachment:
 * a re-attached edge announces the same models, and without it a withdrawal landing late would find
 * its own inventory text in the new attachment's entry and delete it. Confined to the link's event loop.
 */
final class EdgePublisher {

  private static final Logger log = LoggerFactory.getLogger(EdgePublisher.class);

  private final Vertx vertx;
  private final Context context;
  private final HazelcastInstance hazelcast;
  private final MeshView view;
  private final String site;
  private final String attachment;
  private final long ttlMs;
  private final IMap<String, String> loadMap;
  private final IMap<String, String> inventoryMap;
  private final Slot load = new Slot();
  private final Slot inventory = new Slot();
  private final LoadRefresh loadRefresh;
  private final Supplier<SiteState> state;
  private final Supplier<SiteInventory> inv;
  private long inventoryAt;
  private boolean withdrawn;
  /** Publishes a load change the gap held back ({@link LoadRefresh}); -1 when none is held. */
  private long heldLoadTimer = -1;

  /** One map's write in flight and the value this node last wrote there. */
  private static final class Slot {
    Future<Void> inFlight = Future.succeededFuture();
    boolean skipped;
    String written;
  }

  EdgePublisher(Vertx vertx, Context context, HazelcastInstance hazelcast, MeshView view, String site, String attachment,
                long ttlMs, Supplier<SiteState> state, Supplier<SiteInventory> inventory) {
    this.attachment = attachment;
    this.state = state;
    this.inv = inventory;
    this.vertx = vertx;
    this.context = context;
    this.hazelcast = hazelcast;
    this.view = view;
    this.site = site;
    this.ttlMs = ttlMs;
    this.loadMap = hazelcast.getMap(MeshView.LOAD_MAP);
    this.inventoryMap = hazelcast.getMap(MeshView.INVENTORY_MAP);
    this.loadRefresh = new LoadRefresh(ttlMs);
  }

  void publish() {
    if (withdrawn || !hazelcast.getLifecycleService().isRunning()) {
      return;
    }
    SiteInventory inv = this.inv.get();
    String invJson = inv.toJson().put("attachment", attachment).encode();
    long at = System.currentTimeMillis();
    if (!invJson.equals(inventory.written) || at - inventoryAt >= ttlMs) {
      view.putInventory(inv);
      if (write(inventory, invJson, 4 * ttlMs, inventoryMap)) {
        inventoryAt = at;
      }
    }
    SiteState now = state.get();
    view.putState(now);
    long nowNanos = System.nanoTime();
    long writeIn = loadRefresh.writeIn(now, nowNanos, hazelcast.getCluster().getMembers().size());
    if (writeIn == 0 && write(load, now.toJson().encode(), ttlMs, loadMap)) {
      loadRefresh.wrote(now, nowNanos);
    } else if (writeIn > 0 && heldLoadTimer < 0) {
      heldLoadTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(writeIn + 999_999)), id -> {
        heldLoadTimer = -1;
        publish();
      });
    }
  }

  private boolean write(Slot slot, String json, long ttl, IMap<String, String> map) {
    if (!slot.inFlight.isComplete()) {
      slot.skipped = true;
      return false;
    }
    slot.written = json;
    Promise<Void> done = Promise.promise();
    slot.inFlight = done.future();
    CompletionStage<Void> set = map.setAsync(site, json, ttl, TimeUnit.MILLISECONDS);
    set.whenComplete((v, err) -> context.runOnContext(x -> {
      if (err != null && hazelcast.getLifecycleService().isRunning()) {
        log.warn("edge '{}': publishing to the cluster failed: {}", site, err.getMessage());
      }
      if (err != null && slot == load) {
        loadRefresh.forget();
      }
      done.tryComplete();
      if (slot.skipped) {
        slot.skipped = false;
        publish();
      }
    }));
    return true;
  }

  /** Takes the site out of this node's view at once, and out of the cluster once the writes in flight landed. */
  Future<Void> withdraw() {
    withdrawn = true;
    vertx.cancelTimer(heldLoadTimer);
    view.removeState(site);
    view.removeInventory(site);
    Future<Void> loadGone = remove(load, loadMap);
    Future<Void> inventoryGone = remove(inventory, inventoryMap);
    return Future.all(loadGone, inventoryGone).mapEmpty();
  }

  private Future<Void> remove(Slot slot, IMap<String, String> map) {
    String mine = slot.written;
    if (mine == null) {
      return Future.succeededFuture();
    }
    return slot.inFlight.compose(v -> vertx.<Void>executeBlocking(() -> {
      if (hazelcast.getLifecycleService().isRunning()) {
        map.remove(site, mine);
      }
      return null;
    }, false)).recover(err -> {
      log.debug("edge '{}': withdrawing from the cluster failed: {}", site, err.getMessage());
      return Future.succeededFuture();
    });
  }
}
