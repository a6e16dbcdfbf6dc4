package io.hivemesh.observe;

import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteBreakers;
import io.hivemesh.mesh.SiteState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mesh at a glance for {@code GET /hive/mesh} (the page and {@code hive status}): every site
 * this node knows, its state, models, slots and queues, and a short history of its request rate
 * and p99 time to first byte. Everything comes from the sites' published states in the view: a
 * page view costs no cluster call. {@link #sample} runs every {@value #SAMPLE_MS} ms on one event
 * loop; the rest is synchronized, read rarely.
 */
public final class MeshStatus {

  public static final long SAMPLE_MS = 2_000;
  /** Five minutes of samples per site. */
  static final int HISTORY = 150;
  /** A site that left is still shown as down for this long. */
  static final long FORGET_MS = 10 * 60_000;

  private final String self;
  private final MeshView view;
  private final SiteBreakers breakers;
  private final Map<String, Deque<double[]>> history = new TreeMap<>();
  private final Map<String, Long> lastPresent = new LinkedHashMap<>();
  private long lastServed = -1;
  private long lastSampleNanos;
  private volatile double ownRate;

  public MeshStatus(String self, MeshView view, SiteBreakers breakers) {
    this.self = self;
    this.view = view;
    this.breakers = breakers;
  }

  /** Requests per second this site took over the last sample period. */
  public double ownRate() {
    return ownRate;
  }

  /** Takes one sample of every site; {@code served} is this site's own counter. */
  public synchronized void sample(long served) {
    long now = System.nanoTime();
    if (lastServed >= 0 && now > lastSampleNanos) {
      ownRate = (served - lastServed) * 1e9 / (now - lastSampleNanos);
    }
    lastServed = served;
    lastSampleNanos = now;
    long wall = System.currentTimeMillis();
    for (String site : view.siteNames()) {
      SiteState s = view.state(site);
      if (s == null) {
        continue;
      }
      lastPresent.put(site, wall);
      double rate = site.equals(self) ? ownRate : s.rate();
      Deque<double[]> h = history.computeIfAbsent(site, k -> new ArrayDeque<>());
      h.addLast(new double[] {wall, rate, s.ttftP99Ms()});
      if (h.size() > HISTORY) {
        h.removeFirst();
      }
    }
    lastPresent.entrySet().removeIf(e -> wall - e.getValue() > FORGET_MS && view.state(e.getKey()) == null);
    history.keySet().retainAll(lastPresent.keySet());
  }

  /** What a site is, as an operator would say it. */
  static String stateOf(SiteState s, SiteBreakers.State breaker) {
    if (s == null || !s.healthy()) {
      return "down";
    }
    if (s.draining()) {
      return "draining";
    }
    return breaker == SiteBreakers.State.CLOSED ? "up" : "suspect";
  }

  public synchronized JsonObject toJson() {
    JsonObject nodes = new JsonObject();
    for (Object o : view.nodesJson().getJsonArray("nodes")) {
      JsonObject n = (JsonObject) o;
      nodes.put(n.getString("name"), n);
    }
    TreeMap<String, JsonObject> sites = new TreeMap<>();
    for (String name : lastPresent.keySet()) {
      sites.put(name, site(name, nodes.getJsonObject(name)));
    }
    for (String name : nodes.fieldNames()) {
      sites.computeIfAbsent(name, k -> site(k, nodes.getJsonObject(k)));
    }
    return new JsonObject().put("node", self).put("time", System.currentTimeMillis())
        .put("sample_ms", SAMPLE_MS).put("sites", new JsonArray(new java.util.ArrayList<>(sites.values())));
  }

  private JsonObject site(String name, JsonObject node) {
    SiteState s = view.state(name);
    SiteBreakers.State breaker = breakers.state(name);
    JsonObject out = new JsonObject().put("name", name).put("self", name.equals(self))
        .put("state", stateOf(s, breaker)).put("breaker", breaker.name().toLowerCase().replace('_', '-'));
    JsonObject perModel = node == null ? new JsonObject() : node.getJsonObject("inflight_by_model", new JsonObject());
    int slots = s == null ? 0 : s.slots();
    int queued = 0;
    for (String m : perModel.fieldNames()) {
      queued += Math.max(0, perModel.getInteger(m, 0) - slots);
    }
    out.put("models", node == null ? new JsonArray() : node.getJsonArray("models", new JsonArray()))
        .put("loaded", node == null ? new JsonArray() : node.getJsonArray("loaded", new JsonArray()))
        .put("slots", slots)
        .put("inflight", node == null ? 0 : node.getInteger("inflight", 0))
        .put("max_inflight", s == null ? 0 : s.maxInflight())
        .put("queued", queued)
        .put("inflight_by_model", perModel)
        .put("served", s == null ? 0 : (name.equals(self) ? node.getLong("served", s.served()) : s.served()))
        .put("rate", s == null ? 0.0 : name.equals(self) ? ownRate : s.rate())
        .put("ttft_p99_ms", s == null ? 0.0 : s.ttftP99Ms());
    JsonArray h = new JsonArray();
    for (double[] p : history.getOrDefault(name, new ArrayDeque<>())) {
      h.add(new JsonArray().add((long) p[0]).add(round(p[1])).add(round(p[2])));
    }
    return out.put("history", h);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
