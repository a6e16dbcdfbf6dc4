package io.hivemesh.mesh;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceImpl;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.cluster.impl.ClusterHeartbeatManager;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@link MeshView} in step with the cluster, and the cluster with this site. Each node writes
 * only its own entries (load when it changes, checked every {@code publish-interval}, at most once
 * per a gap that grows with the cluster, and every third of its TTL: {@link LoadRefresh}; inventory
 * when it changes), with a TTL so that a node that can no longer refresh them fades out; every node
 * listens to the maps, so reading the mesh never costs a cluster call.
 */
public final class ClusterSync {

  private static final Logger log = LoggerFactory.getLogger(ClusterSync.class);
  private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final MeshView view;
  private final String site;
  private final long publishMs;
  private final long ttlMs;
  private final Supplier<SiteState> ownState;
  private final Supplier<SiteInventory> ownInventory;
  private final Consumer<String> siteLost;
  private final IMap<String, String> loadMap;
  private final IMap<String, String> inventoryMap;
  /** When the cluster last heard from each member; null if Hazelcast's internals are out of reach. */
  private final ClusterHeartbeatManager heartbeats;
  private UUID loadListener;
  private UUID inventoryListener;
  private UUID membershipListener;
  private long timer = -1;
  /** Publishes a load change the gap held back ({@link LoadRefresh}); -1 when none is held. Guarded by the ClusterSync. */
  private long heldLoadTimer = -1;
  private boolean stopped;
  private SiteInventory lastInventory;
  private long lastInventoryAt;
  /**
   * At most one write per map in flight: while a partition owner is unreachable, a write waits up
   * to Hazelcast's call timeout, and one per tick would pile up (and, retried once the member is
   * gone, flood the log with duplicate responses). A skipped write is caught up when the one in
   * flight ends.
   */
  private final WriteSlot loadSlot = new WriteSlot();
  private final WriteSlot inventorySlot = new WriteSlot();
  private final LoadRefresh loadRefresh;

  /** Past this, a write still in flight is given up on: a lost completion must not silence the site for good. */
  private static final long WRITE_GIVEN_UP_NS = TimeUnit.SECONDS.toNanos(30);

  /** One map's write in flight, and whether a publish wanted to write meanwhile. Guarded by the ClusterSync. */
  private static final class WriteSlot {
    boolean busy;
    long since;
    boolean skipped;
  }

  public ClusterSync(Vertx vertx, HazelcastInstance hazelcast, MeshView view, String site, long publishMs, long ttlMs,
                     Supplier<SiteState> ownState, Supplier<SiteInventory> ownInventory, Consumer<String> siteLost) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.view = view;
    this.site = site;
    this.publishMs = publishMs;
    this.ttlMs = ttlMs;
    this.ownState = ownState;
    this.ownInventory = ownInventory;
    this.siteLost = siteLost;
    this.loadMap = hazelcast.getMap(MeshView.LOAD_MAP);
    this.inventoryMap = hazelcast.getMap(MeshView.INVENTORY_MAP);
    this.heartbeats = heartbeatsOf(hazelcast);
    this.loadRefresh = new LoadRefresh(ttlMs);
  }

  /**
   * Drops the entry a gone member left for {@code site}, unless a live node has published the site
   * anew meanwhile: an edge that moved to another node is not to be dropped with its old one. On a
   * worker: reading a partition the gone member owned waits until the cluster has moved it.
   */
  private void removeIfStillFrom(String site, String nodeId) {
    vertx.executeBlocking(() -> {
      String current = loadMap.get(site);
      if (current != null && nodeId.equals(SiteState.fromJson(new JsonObject(current)).nodeId())) {
        loadMap.remove(site, current);
      }
      return null;
    }, false).onFailure(err -> log.debug("could not drop the entry of site '{}': {}", site, err.getMessage()));
  }

  public Future<Void> start() {
    // Listeners first, then the current content: an entry written in between is seen at least once.
    return vertx.executeBlocking(() -> {
      loadListener = loadMap.addEntryListener(new Listener<>(SiteState::fromJson, this::putMemberState,
          view::removeState, site -> view.expireStale(ttlMs, this::memberSilent)), true);
      inventoryListener = inventoryMap.addEntryListener(new Listener<>(SiteInventory::fromJson, view::putInventory,
          view::removeInventory, site -> { }), true);
      membershipListener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
          // A member back from a split: the two halves' maps merge without events this listener
          // sees, so write the entry at the next tick instead of a third of a TTL later.
          entryLost();
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          String nodeId = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
          if (nodeId != null) {
            for (String gone : view.removeNode(nodeId)) {
              log.info("site '{}' left the mesh", gone);
              removeIfStillFrom(gone, nodeId);
              siteLost.accept(gone);
            }
          }
        }
      });
      for (Map.Entry<String, String> e : inventoryMap.entrySet()) {
        view.putInventory(SiteInventory.fromJson(new JsonObject(e.getValue())));
      }
      for (Map.Entry<String, String> e : loadMap.entrySet()) {
        putMemberState(SiteState.fromJson(new JsonObject(e.getValue())));
      }
      return null;
    }).onSuccess(v -> {
      publish();
      timer = vertx.setPeriodic(publishMs, id -> publish());
    }).mapEmpty();
  }

  /**
   * Two live nodes with one name would share inbox addresses and corrupt each other's streams, so
   * this runs before the inboxes exist. It asks the member list, not the load map, whose entry can
   * lapse for a moment when its node is starved; a crashed node of the same name counts until the
   * cluster removes its member.
   */
  public Future<Void> refuseDuplicateName() {
    boolean taken = hazelcast.getCluster().getMembers().stream()
        .anyMatch(m -> !m.localMember() && site.equals(m.getAttribute(ClusterConfig.SITE_ATTRIBUTE)));
    return taken
        ? Future.failedFuture(new io.hivemesh.config.ConfigException("--name: a node named '" + site + "' is already in the mesh"))
        : Future.succeededFuture();
  }

  /**
   * Puts this site's state in the view, and in the cluster if it changed or its entry is due a
   * refresh (its inventory likewise): called every publish interval and on a load change.
   */
  public synchronized void publish() {
    if (stopped || !hazelcast.getLifecycleService().isRunning()) {
      return;
    }
    SiteInventory inv = ownInventory.get();
    long now = System.currentTimeMillis();
    // The inventory entry lives four TTLs and is refreshed every TTL, or at once when it changes.
    if (!inv.equals(lastInventory) || now - lastInventoryAt >= ttlMs) {
      view.putInventory(inv);
      if (claim(inventorySlot)) {
        lastInventory = inv;
        lastInventoryAt = now;
        write(inventorySlot, () -> inventoryMap.setAsync(site, inv.toJson().encode(), 4 * ttlMs, TimeUnit.MILLISECONDS));
      }
    }
    SiteState state = ownState.get();
    view.putState(state);
    view.expireStale(ttlMs, this::memberSilent);
    long nowNanos = System.nanoTime();
    long writeIn = loadRefresh.writeIn(state, nowNanos, hazelcast.getCluster().getMembers().size());
    if (writeIn == 0 && claim(loadSlot)) {
      loadRefresh.wrote(state, nowNanos);
      write(loadSlot, () -> loadMap.setAsync(site, state.toJson().encode(), ttlMs, TimeUnit.MILLISECONDS));
    } else if (writeIn > 0 && heldLoadTimer < 0) {
      heldLoadTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(writeIn + 999_999)), id -> {
        synchronized (this) {
          heldLoadTimer = -1;
        }
        publish();
      });
    }
  }

  private synchronized void entryLost() {
    loadRefresh.forget();
  }

  private boolean claim(WriteSlot slot) {
    long now = System.nanoTime();
    if (slot.busy && now - slot.since < WRITE_GIVEN_UP_NS) {
      slot.skipped = true;
      return false;
    }
    slot.busy = true;
    slot.since = now;
    return true;
  }

  /**
   * Encoding the entry and invoking Hazelcast cost the caller tens of microseconds, up to twenty
   * times a second under load: a worker pays that, not the event loop that serves requests. The
   * completion runs on the Hazelcast thread that completes the write ({@code written} is short):
   * Hazelcast's default would start a new thread for each callback on a machine of two cores or less.
   */
  private void write(WriteSlot slot, Supplier<CompletionStage<Void>> setAsync) {
    vertx.executeBlocking(() -> {
      setAsync.get().whenCompleteAsync((v, err) -> written(slot, err), Runnable::run);
      return null;
    }, false).onFailure(err -> written(slot, err));
  }

  /** A write ended (on a Hazelcast thread): free its slot, and publish now if a write was skipped meanwhile. */
  private void written(WriteSlot slot, Throwable err) {
    if (err != null && hazelcast.getLifecycleService().isRunning()) {
      log.warn("site '{}': publishing to the cluster failed: {}", site, err.getMessage());
    }
    boolean catchUp;
    synchronized (this) {
      if (err != null && slot == loadSlot) {
        loadRefresh.forget();
      }
      slot.busy = false;
      catchUp = slot.skipped;
      slot.skipped = false;
    }
    if (catchUp) {
      vertx.runOnContext(v -> publish());
    }
  }

  /**
   * Takes a site's state only from a current member: the event bus reaches members only. A
   * member the cluster removed can still land writes for a moment (it has not noticed yet, or a
   * frozen process thaws), and a backup can surface an old entry; either would put a site in
   * rotation that every request then fails to reach.
   */
  private void putMemberState(SiteState state) {
    if (isMember(state.nodeId())) {
      view.putState(state);
    } else {
      log.debug("ignoring the entry of site '{}': its node {} is not a member", state.name(), state.nodeId());
    }
  }

  private boolean isMember(String nodeId) {
    for (Member m : hazelcast.getCluster().getMembers()) {
      if (nodeId.equals(m.getAttribute(NODE_ID_ATTRIBUTE))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the cluster has heard no heartbeat for a TTL from the member running {@code nodeId}, or
   * has no such member. Hazelcast keeps heartbeat times behind its internal API only; without
   * it, every member counts as silent and a stale entry alone drops a site.
   */
  private boolean memberSilent(String nodeId) {
    if (heartbeats == null) {
      return true;
    }
    for (Member m : hazelcast.getCluster().getMembers()) {
      if (!m.localMember() && nodeId.equals(m.getAttribute(NODE_ID_ATTRIBUTE))) {
        return hazelcast.getCluster().getClusterTime() - heartbeats.getLastHeartbeatTime(m) > ttlMs;
      }
    }
    return true;
  }

  private static ClusterHeartbeatManager heartbeatsOf(HazelcastInstance hazelcast) {
    try {
      if (hazelcast instanceof HazelcastInstanceProxy proxy) {
        return proxy.getOriginal().node.getClusterService().getClusterHeartbeatManager();
      }
      if (hazelcast instanceof HazelcastInstanceImpl impl) {
        return impl.node.getClusterService().getClusterHeartbeatManager();
      }
    } catch (RuntimeException | LinkageError e) {
      log.warn("member heartbeats are out of reach ({}): a site whose entry stalls is dropped after entry-ttl even"
          + " when its member is fine", e.toString());
    }
    return null;
  }

  /** Stops publishing and withdraws this site from the mesh. Blocking calls run off the event loop. */
  public Future<Void> stop() {
    synchronized (this) {
      stopped = true;
      vertx.cancelTimer(heldLoadTimer);
    }
    vertx.cancelTimer(timer);
    return vertx.executeBlocking(() -> {
      // Never started (say, refused for a duplicate name): the entries under this name are someone else's.
      if (loadListener == null || !hazelcast.getLifecycleService().isRunning()) {
        return null;
      }
      loadMap.removeEntryListener(loadListener);
      inventoryMap.removeEntryListener(inventoryListener);
      hazelcast.getCluster().removeMembershipListener(membershipListener);
      loadMap.delete(site);
      inventoryMap.delete(site);
      return null;
    });
  }

  /** Feeds one cluster map into the view, whatever the event. */
  private static final class Listener<T> implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String>, EntryRemovedListener<String, String>,
      EntryExpiredListener<String, String>, EntryEvictedListener<String, String> {

    private final Function<JsonObject, T> parse;
    private final Consumer<T> put;
    private final Consumer<String> remove;
    private final Consumer<String> expired;

    /** {@code remove} for deliberate removals; {@code expired} for expiries, which are only hints. */
    Listener(Function<JsonObject, T> parse, Consumer<T> put, Consumer<String> remove, Consumer<String> expired) {
      this.parse = parse;
      this.put = put;
      this.remove = remove;
      this.expired = expired;
    }

    private void put(EntryEvent<String, String> e) {
      try {
        put.accept(parse.apply(new JsonObject(e.getValue())));
      } catch (RuntimeException ex) {
        log.warn("ignoring a malformed mesh entry for '{}': {}", e.getKey(), ex.getMessage());
      }
    }

    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      put(e);
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      put(e);
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> e) {
      remove.accept(e.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, String> e) {
      expired.accept(e.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> e) {
      expired.accept(e.getKey());
    }
  }
}
