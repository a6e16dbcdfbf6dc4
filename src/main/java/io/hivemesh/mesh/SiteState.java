package io.hivemesh.mesh;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The small, frequently refreshed entry each node publishes about its site: health and load.
 * Lives in the cluster map {@link MeshView#LOAD_MAP} under the site's name, with a TTL, so a site
 * that stops refreshing it drops out of everyone's view.
 *
 * @param name          site name
 * @param nodeId        Vert.x cluster node id (to drop the entry the moment the member leaves)
 * @param loops         number of bus inboxes the node runs (one per event loop)
 * @param healthy       the site's Ollama answered its last probe
 * @param draining      the node takes no new work
 * @param slots         requests served at once per loaded model
 * @param maxInflight   requests the site accepts at once
 * @param maxPerModel   requests the site accepts at once for any one model
 * @param inflight      requests running or waiting at the site
 * @param modelInflight the same, per model key
 * @param loaded        model keys loaded in memory
 * @param served        requests the site has taken since its node started
 * @param rate          requests per second the site took lately (for the mesh page, not for routing)
 * @param ttftP99Ms     99th percentile of its Ollama's time to first byte lately, in ms (0: no requests)
 * @param via           for an edge site, the node it is attached to (whose cluster node id is {@code nodeId}
 *                      and whose event bus carries its streams); null for a full node
 * @param attachment    for an edge site, the id of its current attachment, part of its inbox addresses
 * @param maxLoaded     models the site's Ollama keeps loaded at once (0: not known): a cold load on a
 *                      site holding that many evicts one
 * @param speed         how fast the site's Ollama answers and loads, per model and overall, as measured from its answers
 */
public record SiteState(String name, String nodeId, int loops, boolean healthy, boolean draining, int slots,
                        int maxInflight, int maxPerModel, int inflight, Map<String, Integer> modelInflight, Set<String> loaded,
                        long served, double rate, double ttftP99Ms, String via, String attachment, int maxLoaded,
                        SiteSpeed.Speeds speed) {

  /** A site that has not measured its speed. */
  public SiteState(String name, String nodeId, int loops, boolean healthy, boolean draining, int slots,
                   int maxInflight, int maxPerModel, int inflight, Map<String, Integer> modelInflight, Set<String> loaded,
                   long served, double rate, double ttftP99Ms, String via, String attachment, int maxLoaded) {
    this(name, nodeId, loops, healthy, draining, slots, maxInflight, maxPerModel, inflight, modelInflight, loaded,
        served, rate, ttftP99Ms, via, attachment, maxLoaded, SiteSpeed.Speeds.UNKNOWN);
  }

  /** A full node's own site. */
  public SiteState(String name, String nodeId, int loops, boolean healthy, boolean draining, int slots,
                   int maxInflight, int maxPerModel, int inflight, Map<String, Integer> modelInflight, Set<String> loaded,
                   long served) {
    this(name, nodeId, loops, healthy, draining, slots, maxInflight, maxPerModel, inflight, modelInflight, loaded,
        served, 0, 0, null, null, 0);
  }

  /**
   * Whether {@code other} differs from this only in the numbers that move with every request (the
   * requests in flight, served, the rate, the first-byte p99 and the measured speeds): not in the
   * site's health, drain, limits, loaded models or where its streams go.
   */
  public boolean differsOnlyInLoad(SiteState other) {
    return other != null && name.equals(other.name) && Objects.equals(nodeId, other.nodeId)
        && loops == other.loops && healthy == other.healthy && draining == other.draining && slots == other.slots
        && maxInflight == other.maxInflight && maxPerModel == other.maxPerModel && loaded.equals(other.loaded)
        && Objects.equals(via, other.via) && Objects.equals(attachment, other.attachment)
        && maxLoaded == other.maxLoaded;
  }

  /** Whether loading one more model here evicts another (the site says how many it keeps, and holds that many). */
  public boolean loadEvicts() {
    return maxLoaded > 0 && loaded.size() >= maxLoaded;
  }

  /**
   * Event-bus address of the site's inbox {@code loop}. An edge site's inboxes are new with each
   * attachment: the registrations of an earlier one (which linger until the cluster drops a
   * crashed member, and settle in peers' caches a moment after a re-attachment) never receive
   * its streams.
   */
  public String inbox(int loop) {
    return via == null ? nodeInbox(name, loop) : edgeInbox(name, attachment, loop);
  }

  /**
   * Inbox addresses carry the version of the frames they read ({@link BusFrame#VERSION}): nodes of
   * releases that frame streams differently do not reach each other's inboxes, so during a rolling
   * upgrade a request between them fails over at once (no handler) instead of waiting out its ack.
   */
  private static final String INBOXES = "hive.v" + BusFrame.VERSION + ".";

  /** Event-bus address of a full node's inbox {@code loop}. */
  public static String nodeInbox(String node, int loop) {
    return INBOXES + "site." + node + "." + loop;
  }

  public static String edgeInbox(String site, String attachment, int loop) {
    return INBOXES + "edge." + site + "." + attachment + "." + loop;
  }

  public JsonObject toJson() {
    JsonObject models = new JsonObject();
    modelInflight.forEach(models::put);
    JsonObject json = new JsonObject()
        .put("name", name).put("node", nodeId).put("loops", loops)
        .put("healthy", healthy).put("draining", draining)
        .put("slots", slots).put("max", maxInflight).put("max_per_model", maxPerModel).put("inflight", inflight)
        .put("models", models).put("loaded", new JsonArray(loaded.stream().sorted().toList()))
        .put("served", served).put("rate", rate).put("ttft_p99_ms", ttftP99Ms).put("max_loaded", maxLoaded);
    speed.putInto(json);
    if (via != null) {
      json.put("via", via).put("attachment", attachment);
    }
    return json;
  }

  public static SiteState fromJson(JsonObject j) {
    Map<String, Integer> models = new HashMap<>();
    JsonObject m = j.getJsonObject("models", new JsonObject());
    for (String k : m.fieldNames()) {
      models.put(k, m.getInteger(k, 0));
    }
    Set<String> loaded = new HashSet<>();
    for (Object o : j.getJsonArray("loaded", new JsonArray())) {
      loaded.add(String.valueOf(o));
    }
    return new SiteState(j.getString("name"), j.getString("node"), Math.max(1, j.getInteger("loops", 1)),
        j.getBoolean("healthy", false), j.getBoolean("draining", false), Math.max(1, j.getInteger("slots", 1)),
        Math.max(1, j.getInteger("max", 1)), Math.max(1, j.getInteger("max_per_model", j.getInteger("max", 1))),
        j.getInteger("inflight", 0), models, loaded,
        j.getLong("served", 0L), j.getDouble("rate", 0.0), j.getDouble("ttft_p99_ms", 0.0), j.getString("via"),
        j.getString("attachment"), Math.max(0, j.getInteger("max_loaded", 0)),
        SiteSpeed.Speeds.from(j));
  }
}
