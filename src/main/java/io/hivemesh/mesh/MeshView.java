package io.hivemesh.mesh;

import io.hivemesh.model.ModelName;
import io.hivemesh.routing.Candidate;
import io.hivemesh.security.ModelAccess;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * This node's picture of the mesh: every live site's load and inventory, as last published in the
 * cluster, plus the requests this node dispatched to each site since that site's last snapshot.
 * Updated from Hazelcast event threads, read on the request path without locks or cluster calls:
 * readers see immutable snapshots published through volatile fields.
 */
public final class MeshView {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MeshView.class);

  public static final String LOAD_MAP = "hive.load";
  public static final String INVENTORY_MAP = "hive.inventory";
  /** How many TTLs a site whose member the cluster still hears from may go without a refresh. */
  static final int STALLED_REFRESH_TTLS = 4;

  private final String self;
  private final LocalLoad localLoad;
  private final LongSupplier clock;
  /** When each site's state last arrived, by this node's clock: freshness never trusts another clock. */
  private final Map<String, Long> lastSeen = new HashMap<>();
  /**
   * The cluster node that last published each site, kept after the site's entry expired: a
   * member that goes silent expires from the view before the cluster removes it, and its removal
   * must still reach the streams open to its sites.
   */
  private final Map<String, String> nodeOfSite = new HashMap<>();

  private volatile Map<String, SiteState> states = Map.of();
  private volatile Map<String, SiteInventory> inventories = Map.of();
  private volatile Index index = Index.EMPTY;
  private final ConcurrentHashMap<String, Adjustment> adjustments = new ConcurrentHashMap<>();
  private volatile Consumer<String> newPeer = site -> { };

  public MeshView(String self, LocalLoad localLoad) {
    this(self, localLoad, System::nanoTime);
  }

  MeshView(String self, LocalLoad localLoad, LongSupplier nanoClock) {
    this.self = self;
    this.localLoad = localLoad;
    this.clock = nanoClock;
  }

  public String self() {
    return self;
  }

  /** Called with a site's name when it first appears, or comes back as a new process. */
  public void onNewPeer(Consumer<String> listener) {
    this.newPeer = listener;
  }

  /**
   * Models this node expects a site may unload: it sent the site a load that evicts, and these were
   * loaded there, idle (Ollama unloads an idle one) or held loaded by another site as well. They
   * count as cold at that site until the site publishes a different set of loaded models, or for
   * {@link #EVICTION_GUESS_NANOS} at most. Without it, the next requests for the evicted model
   * follow the stale snapshot to the site and load it back, evicting the model just loaded: the
   * two take turns, each load costing seconds.
   */
  private record EvictionGuess(Set<String> models, Set<String> loadedWhenGuessed, long untilNanos) {
  }

  static final long EVICTION_GUESS_NANOS = 5_000_000_000L;
  private final ConcurrentHashMap<String, EvictionGuess> evictionGuesses = new ConcurrentHashMap<>();

  /** Requests this node sent to a site that the site's published snapshot may not count yet. */
  private static final class Adjustment {
    final AtomicInteger total = new AtomicInteger();
    final ConcurrentHashMap<String, AtomicInteger> models = new ConcurrentHashMap<>();
  }

  /**
   * Model key to the sites that can serve it, the live sites, and the mesh-wide answers derived from
   * the same data: one snapshot, so a site is never live while its models are not yet routable.
   */
  private record Index(Map<String, List<String>> sitesByModel, Set<String> live, Catalog catalog,
                       Map<String, Integer> loadedCopies) {
    static final Index EMPTY = new Index(Map.of(), Set.of(), Catalog.build(List.of()), Map.of());
  }

  // ---- updates (Hazelcast event threads, the publisher) ----

  public synchronized void putState(SiteState s) {
    SiteState old = states.get(s.name());
    Map<String, SiteState> next = new HashMap<>(states);
    next.put(s.name(), s);
    states = Map.copyOf(next);
    lastSeen.put(s.name(), clock.getAsLong());
    nodeOfSite.put(s.name(), s.nodeId());
    adjustments.remove(s.name());
    if (!s.name().equals(self) && (old == null || old.healthy() != s.healthy() || old.draining() != s.draining())) {
      log.info("site '{}' is {}", s.name(), s.healthy() && !s.draining() ? "in rotation"
          : s.draining() ? "draining" : "out of rotation: its Ollama does not answer");
    }
    if (old == null || old.healthy() != s.healthy() || old.draining() != s.draining()
        || !old.loaded().equals(s.loaded()) || !old.nodeId().equals(s.nodeId())) {
      rebuild();
    }
    if (!s.name().equals(self) && (old == null || !old.nodeId().equals(s.nodeId())
        || !java.util.Objects.equals(old.attachment(), s.attachment()))) {
      newPeer.accept(s.name());
    }
  }

  public synchronized void removeState(String site) {
    // This node's own entry is authoritative here: an expiry seen during a hiccup must not hide it.
    if (!site.equals(self) && states.containsKey(site)) {
      Map<String, SiteState> next = new HashMap<>(states);
      next.remove(site);
      states = Map.copyOf(next);
      lastSeen.remove(site);
      adjustments.remove(site);
      evictionGuesses.remove(site);
      log.info("site '{}' is out of rotation: it left or stopped refreshing its entry", site);
      rebuild();
    }
  }

  public synchronized void putInventory(SiteInventory inv) {
    Map<String, SiteInventory> next = new HashMap<>(inventories);
    next.put(inv.name(), inv);
    inventories = Map.copyOf(next);
    rebuild();
  }

  public synchronized void removeInventory(String site) {
    if (inventories.containsKey(site)) {
      Map<String, SiteInventory> next = new HashMap<>(inventories);
      next.remove(site);
      inventories = Map.copyOf(next);
      rebuild();
    }
  }

  /**
   * Drops the sites whose state has not been refreshed for {@code ttlMillis} while the cluster
   * heard nothing from their member either ({@code memberSilent}, by node id): a node cut off by a
   * partition, or stuck. A site whose member is still heard from goes only after
   * {@value #STALLED_REFRESH_TTLS} TTLs: its refreshes may just be held up, for the entry's
   * partition can belong to a member that became unreachable, and writes to it wait until the
   * cluster removes that member (about 8 s with the shipped cluster.xml). Run on every refresh
   * tick and on the cluster's expiry events; the cluster's own expiry alone is not trusted, since
   * Hazelcast also reports expiries of entries that were refreshed in time (seen while partitions
   * migrate).
   */
  public synchronized void expireStale(long ttlMillis, Predicate<String> memberSilent) {
    long now = clock.getAsLong();
    long ttlNanos = ttlMillis * 1_000_000L;
    List<String> stale = new ArrayList<>();
    lastSeen.forEach((site, at) -> {
      long age = now - at;
      if (!site.equals(self) && age > ttlNanos
          && (age > STALLED_REFRESH_TTLS * ttlNanos || memberSilent.test(nodeOfSite.getOrDefault(site, "")))) {
        stale.add(site);
      }
    });
    for (String site : stale) {
      removeState(site);
      removeInventory(site);
    }
  }

  /**
   * Drops every site run by a cluster member that left, whether or not its entry had already
   * expired from the view; returns their names.
   */
  public synchronized List<String> removeNode(String nodeId) {
    List<String> gone = new ArrayList<>();
    nodeOfSite.forEach((site, node) -> {
      if (node.equals(nodeId) && !site.equals(self)) {
        gone.add(site);
      }
    });
    for (String site : gone) {
      nodeOfSite.remove(site);
      removeState(site);
      removeInventory(site);
    }
    return gone;
  }

  private void rebuild() {
    Map<String, List<String>> byModel = new HashMap<>();
    Map<String, Integer> loadedCopies = new HashMap<>();
    List<SiteView> live = new ArrayList<>();
    for (SiteState s : states.values()) {
      SiteInventory inv = inventories.get(s.name());
      if (inv == null || !s.healthy() || s.draining()) {
        continue;
      }
      live.add(new SiteView(s, inv));
      s.loaded().forEach(m -> loadedCopies.merge(m, 1, Integer::sum));
      for (String key : inv.modelsByKey().keySet()) {
        byModel.computeIfAbsent(key, k -> new ArrayList<>()).add(s.name());
      }
    }
    byModel.replaceAll((k, v) -> List.copyOf(v));
    Set<String> liveNames = new HashSet<>();
    live.forEach(v -> liveNames.add(v.state().name()));
    index = new Index(Map.copyOf(byModel), Set.copyOf(liveNames), Catalog.build(live), Map.copyOf(loadedCopies));
  }

  // ---- reads (request path) ----

  /** Sites that can take a request for {@code modelKey} now, and how many were left out as full. */
  public record Candidates(List<Candidate> sites, int saturated) {
  }

  public Candidates candidates(String modelKey) {
    Index idx = index;
    List<String> sites = idx.sitesByModel.get(modelKey);
    if (sites == null) {
      return new Candidates(new ArrayList<>(0), 0);
    }
    Map<String, SiteState> snapshot = states;
    List<Candidate> out = new ArrayList<>(sites.size());
    int saturated = 0;
    for (String site : sites) {
      SiteState s = snapshot.get(site);
      if (s == null) {
        continue;
      }
      boolean local = site.equals(self);
      int model = modelInflight(site, s, modelKey);
      int total;
      if (local) {
        total = localLoad.total();
      } else {
        Adjustment adj = adjustments.get(site);
        total = s.inflight() + (adj == null ? 0 : adj.total.get());
      }
      // A site full for this model is as full as a full site, for this request.
      if (total >= s.maxInflight() || model >= s.maxPerModel()) {
        saturated++;
        continue;
      }
      boolean loaded = s.loaded().contains(modelKey) && !guessedEvicted(site, s, modelKey);
      boolean evicts = !loaded && s.loadEvicts();
      SiteSpeed.Measured speed = s.speed().of(modelKey);
      out.add(new Candidate(site, local, loaded, model, total, s.slots(), evicts,
          speed.tokensPerSecond(), speed.loadMs(), evicts ? onlyCopyShare(site, s, modelKey, idx.loadedCopies) : 0));
    }
    return new Candidates(out, saturated);
  }

  /** Requests for {@code modelKey} running or waiting at {@code site}, as far as this node knows. */
  private int modelInflight(String site, SiteState s, String modelKey) {
    if (site.equals(self)) {
      return localLoad.forModel(modelKey);
    }
    Adjustment adj = adjustments.get(site);
    AtomicInteger adjModel = adj == null ? null : adj.models.get(modelKey);
    return s.modelInflight().getOrDefault(modelKey, 0) + (adjModel == null ? 0 : adjModel.get());
  }

  /**
   * Of the models a load of {@code modelKey} at {@code site} may evict, the share loaded at no other
   * site. Ollama evicts an idle model; which one it picks is its own, so every idle one counts
   * alike, and when none is idle, every loaded one (the first to go idle goes). Evicting a model
   * that another site also holds costs its traffic little; evicting its only copy costs a reload.
   */
  private double onlyCopyShare(String site, SiteState s, String modelKey, Map<String, Integer> loadedCopies) {
    int idle = 0;
    int idleOnly = 0;
    int all = 0;
    int allOnly = 0;
    for (String m : s.loaded()) {
      if (m.equals(modelKey)) {
        continue;
      }
      boolean only = loadedCopies.getOrDefault(m, 0) <= 1;
      all++;
      allOnly += only ? 1 : 0;
      if (modelInflight(site, s, m) == 0) {
        idle++;
        idleOnly += only ? 1 : 0;
      }
    }
    return idle > 0 ? (double) idleOnly / idle : all > 0 ? (double) allOnly / all : 1.0;
  }

  private boolean guessedEvicted(String site, SiteState s, String modelKey) {
    EvictionGuess guess = evictionGuesses.get(site);
    if (guess == null) {
      return false;
    }
    if (!guess.loadedWhenGuessed().equals(s.loaded()) || clock.getAsLong() - guess.untilNanos() > 0) {
      evictionGuesses.remove(site, guess);
      return false;
    }
    return guess.models().contains(modelKey);
  }

  /**
   * This node is sending {@code site} a request for {@code modelKey}, which is not loaded there:
   * if the load will evict another model, the idle loaded ones are what Ollama picks from. A model
   * that looks busy may be idle by the time the load reaches Ollama (an embedding takes
   * milliseconds), so one that another site also holds loaded counts as cold here too: its
   * requests have somewhere else to go until the site says what it holds, where sending them here
   * would load it back over the new model. An only copy stays, busy, where it is.
   */
  public void noteColdLoad(String site, String modelKey) {
    SiteState s = states.get(site);
    if (s == null || !s.loadEvicts()) {
      return;
    }
    Map<String, Integer> copies = index.loadedCopies;
    Set<String> mayGo = new HashSet<>();
    for (String m : s.loaded()) {
      if (!m.equals(modelKey) && (modelInflight(site, s, m) == 0 || copies.getOrDefault(m, 0) > 1)) {
        mayGo.add(m);
      }
    }
    if (!mayGo.isEmpty()) {
      evictionGuesses.put(site, new EvictionGuess(Set.copyOf(mayGo), s.loaded(), clock.getAsLong() + EVICTION_GUESS_NANOS));
    }
  }

  /**
   * Counts a request sent to a remote site until that site's next snapshot includes it, or until it
   * ends, whichever comes first: run the returned action when it ends. Without the second bound, a
   * node sending a site thousands of short requests a second would count every one sent since the
   * last snapshot as still open, see the site full, and answer 503.
   */
  public Runnable noteDispatched(String site, String modelKey) {
    if (site.equals(self)) {
      return NOTHING;
    }
    Adjustment adj = adjustments.computeIfAbsent(site, k -> new Adjustment());
    AtomicInteger model = adj.models.computeIfAbsent(modelKey, k -> new AtomicInteger());
    adj.total.incrementAndGet();
    model.incrementAndGet();
    // Once a newer snapshot has replaced this adjustment, the decrement lands on the old one: harmless.
    return () -> {
      adj.total.decrementAndGet();
      model.decrementAndGet();
    };
  }

  private static final Runnable NOTHING = () -> { };

  /** The site can take work: it publishes load, its Ollama is healthy, its inventory is known. */
  public boolean isLive(String site) {
    return index.live.contains(site);
  }

  public SiteState state(String site) {
    return states.get(site);
  }

  public boolean holds(String site, String modelKey) {
    List<String> sites = index.sitesByModel.get(modelKey);
    return sites != null && sites.contains(site);
  }

  public Catalog catalog() {
    return index.catalog;
  }

  /** Whether some live site holds {@code modelKey}: metrics label only such models by name. */
  public boolean knowsModel(String modelKey) {
    return index.sitesByModel.containsKey(modelKey);
  }

  /** Whether the site's inventory (its models) has reached this node. */
  public boolean hasInventory(String site) {
    return inventories.containsKey(site);
  }

  /** Sites that publish a state now, live or not. */
  public Set<String> siteNames() {
    return states.keySet();
  }

  /** {@code GET /hive/nodes}: every site this node knows of, live or not. */
  public JsonObject nodesJson() {
    Map<String, SiteState> st = states;
    Map<String, SiteInventory> inv = inventories;
    TreeMap<String, JsonObject> out = new TreeMap<>();
    for (String name : union(st.keySet(), inv.keySet())) {
      SiteState s = st.get(name);
      SiteInventory i = inv.get(name);
      JsonObject n = new JsonObject().put("name", name).put("self", name.equals(self));
      n.put("models", new JsonArray(i == null ? List.of()
          : i.tags().stream().map(SiteInventory::modelName).sorted().toList()));
      n.put("loaded", new JsonArray(i == null ? List.of()
          : i.ps().stream().map(SiteInventory::modelName).sorted().toList()));
      if (s != null) {
        int inflight = name.equals(self) ? localLoad.total() : s.inflight();
        long served = name.equals(self) ? localLoad.served() : s.served();
        n.put("inflight", inflight).put("served", served).put("slots", s.slots()).put("max_inflight", s.maxInflight())
            .put("max_per_model", s.maxPerModel())
            .put("healthy", s.healthy()).put("draining", s.draining());
        if (s.via() != null) {
          n.put("via", s.via());
        }
        JsonObject perModel = new JsonObject();
        new TreeMap<>(name.equals(self) ? localLoad.snapshot() : s.modelInflight())
            .forEach((key, count) -> perModel.put(key.isEmpty() ? "(management)" : ModelName.parse(key).display(), count));
        n.put("inflight_by_model", perModel);
      } else {
        n.put("inflight", 0).put("healthy", false).put("draining", false);
      }
      n.put("version", i == null ? null : i.version());
      out.put(name, n);
    }
    return new JsonObject().put("nodes", new JsonArray(new ArrayList<>(out.values())));
  }

  private static List<String> union(Collection<String> a, Collection<String> b) {
    List<String> out = new ArrayList<>(a);
    for (String s : b) {
      if (!out.contains(s)) {
        out.add(s);
      }
    }
    return out;
  }

  private record SiteView(SiteState state, SiteInventory inventory) {
  }

  /**
   * The mesh-wide answers ({@code /api/tags}, {@code /api/ps}, {@code /v1/models},
   * {@code /api/version}), serialized once per change instead of once per request.
   */
  public static final class Catalog {

    /** Distinct token model lists seen per catalog; beyond it views are built per request. */
    private static final int MAX_VIEWS = 256;

    private final List<JsonObject> tagList;
    private final List<JsonObject> psList;
    private final List<JsonObject> openAiList;
    private final Buffer tags;
    private final Buffer ps;
    private final Buffer openAiModels;
    private final Map<String, JsonObject> openAiModelById;
    private final String version;
    private final Map<ModelAccess, Catalog> views = new ConcurrentHashMap<>();

    private Catalog(List<JsonObject> tagList, List<JsonObject> psList, List<JsonObject> openAiList, String version) {
      this.tagList = tagList;
      this.psList = psList;
      this.openAiList = openAiList;
      this.tags = new JsonObject().put("models", new JsonArray(new ArrayList<>(tagList))).toBuffer();
      this.ps = new JsonObject().put("models", new JsonArray(new ArrayList<>(psList))).toBuffer();
      this.openAiModels = new JsonObject().put("object", "list").put("data", new JsonArray(new ArrayList<>(openAiList)))
          .toBuffer();
      Map<String, JsonObject> byId = new HashMap<>();
      openAiList.forEach(m -> byId.put(ModelName.key(m.getString("id")), m));
      this.openAiModelById = Map.copyOf(byId);
      this.version = version;
    }

    public Buffer tags() {
      return tags;
    }

    public Buffer ps() {
      return ps;
    }

    public Buffer openAiModels() {
      return openAiModels;
    }

    public Map<String, JsonObject> openAiModelById() {
      return openAiModelById;
    }

    public String version() {
      return version;
    }

    /** The catalog as a token limited to some models sees it, built once per distinct limit. */
    public Catalog visibleTo(ModelAccess access) {
      if (access.all()) {
        return this;
      }
      Catalog view = views.get(access);
      if (view == null) {
        view = new Catalog(only(tagList, access), only(psList, access), openAiList.stream()
            .filter(m -> access.allows(m.getString("id"))).toList(), version);
        if (views.size() < MAX_VIEWS) {
          views.put(access, view);
        }
      }
      return view;
    }

    private static List<JsonObject> only(List<JsonObject> models, ModelAccess access) {
      return models.stream().filter(m -> access.allows(SiteInventory.modelName(m))).toList();
    }

    static Catalog build(List<SiteView> live) {
      List<SiteView> sorted = new ArrayList<>(live);
      sorted.sort(Comparator.comparing(v -> v.state.name()));
      TreeMap<String, JsonObject> tags = new TreeMap<>();
      Map<String, JsonObject> ps = new HashMap<>();
      String version = null;
      for (SiteView v : sorted) {
        for (JsonObject t : v.inventory.tags()) {
          tags.putIfAbsent(SiteInventory.modelName(t), t);
        }
        for (JsonObject p : v.inventory.ps()) {
          String key = ModelName.key(SiteInventory.modelName(p));
          JsonObject prev = ps.get(key);
          if (prev == null || p.getString("expires_at", "").compareTo(prev.getString("expires_at", "")) > 0) {
            ps.put(key, p);
          }
        }
        if (version == null || compareVersions(v.inventory.version(), version) < 0) {
          version = v.inventory.version();
        }
      }
      List<JsonObject> psList = new ArrayList<>(ps.values());
      psList.sort(Comparator.comparing((JsonObject p) -> p.getString("expires_at", "")).reversed());
      List<JsonObject> data = new ArrayList<>();
      for (JsonObject t : tags.values()) {
        String id = SiteInventory.modelName(t);
        data.add(new JsonObject().put("id", id).put("object", "model")
            .put("created", epochSeconds(t.getString("modified_at"))).put("owned_by", owner(id)));
      }
      return new Catalog(List.copyOf(tags.values()), List.copyOf(psList), List.copyOf(data),
          version == null ? "0.0.0" : version);
    }

    private static long epochSeconds(String rfc3339) {
      try {
        return rfc3339 == null ? 0 : OffsetDateTime.parse(rfc3339).toEpochSecond();
      } catch (RuntimeException e) {
        return 0;
      }
    }

    /** Ollama's {@code owned_by}: the model's namespace ({@code library} for the official ones). */
    private static String owner(String id) {
      return ModelName.parse(id).namespace();
    }

    static int compareVersions(String a, String b) {
      String[] x = a.split("[.-]");
      String[] y = b.split("[.-]");
      for (int i = 0; i < Math.max(x.length, y.length); i++) {
        int p = i < x.length ? parse(x[i]) : 0;
        int q = i < y.length ? parse(y[i]) : 0;
        if (p != q) {
          return Integer.compare(p, q);
        }
      }
      return 0;
    }

    private static int parse(String s) {
      try {
        return Integer.parseInt(s);
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }
}
