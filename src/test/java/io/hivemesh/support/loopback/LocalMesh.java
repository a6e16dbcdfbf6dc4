package io.hivemesh.support.loopback;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.sim.SimStats;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A mesh on this machine's loopback: every node a {@code hive node} JVM of its own with ports of
 * its own, every site's Ollama an {@link OllamaSim} in the test JVM (one JVM fewer per site, and
 * the test can read what each sim served). Nodes run plain and without tokens: this is about
 * failures, not security.
 */
public final class LocalMesh implements AutoCloseable {

  /** Prompts each sim remembers in its served log: far more than any test sends. */
  private static final int SERVED_LOG_CAPACITY = 200_000;

  private final Path logDir;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Map<String, LocalNode> nodes = new LinkedHashMap<>();
  private final Map<String, OllamaSim> sims = new LinkedHashMap<>();
  private final Map<String, Set<String>> modelsBySite = new LinkedHashMap<>();

  public LocalMesh(Path logDir) {
    this.logDir = logDir;
  }

  /**
   * Adds a site: starts its sim (serving {@code sim}'s models at its pace, on a free port, with a
   * served log) and its node, joining through the nodes already added. Returns at once; see
   * {@link #awaitMesh}.
   */
  public LocalNode addSite(String name, SimOptions sim, List<String> jvmFlags, List<String> nodeArgs) {
    OllamaSim ollama = await(OllamaSim.start(vertx, sim.withHost("127.0.0.1").withPort(0).withName("sim-" + name)));
    ollama.stats().keepServedLog(SERVED_LOG_CAPACITY);
    LocalNode node = new LocalNode(name, ollama.url(), logDir, jvmFlags, nodeArgs);
    List<String> seeds = seedsFor(name);
    synchronized (this) {
      sims.put(name, ollama);
      nodes.put(name, node);
      modelsBySite.put(name, new TreeSet<>(sim.models()));
    }
    node.start(seeds);
    return node;
  }

  /** Starts a stopped node again under the same name and ports. */
  public void restart(LocalNode node) {
    node.start(seedsFor(node.name()));
  }

  /** Hazelcast addresses of the other nodes that are running: one is enough to join, more survive a dead one. */
  private synchronized List<String> seedsFor(String name) {
    return nodes.values().stream().filter(n -> !n.name().equals(name) && n.isAlive())
        .map(LocalNode::clusterAddress).toList();
  }

  public synchronized LocalNode node(String name) {
    return nodes.get(name);
  }

  public synchronized List<LocalNode> nodes() {
    return new ArrayList<>(nodes.values());
  }

  public synchronized Map<String, SimStats> simStats() {
    Map<String, SimStats> out = new LinkedHashMap<>();
    sims.forEach((site, sim) -> out.put(site, sim.stats()));
    return out;
  }

  /** The models each site's sim holds, by site. */
  public synchronized Map<String, Set<String>> models() {
    return new LinkedHashMap<>(modelsBySite);
  }

  /**
   * Waits until every node in {@code members} lists exactly those sites, each healthy, not
   * draining, and with its sim's models.
   */
  public void awaitMesh(Collection<LocalNode> members, Duration timeout) {
    Set<String> names = members.stream().map(LocalNode::name).collect(Collectors.toCollection(TreeSet::new));
    for (LocalNode n : members) {
      String[] last = {""};
      n.awaitReady("lists exactly the sites " + names, timeout, () -> {
        // A member that died will never be listed: say so now, with its log, not at the timeout.
        for (LocalNode m : members) {
          if (!m.isAlive()) {
            throw new AssertionError(m.name() + " exited while the mesh was forming\n" + m.logTail());
          }
        }
        JsonObject view = nodesView(n);
        last[0] = String.valueOf(view);
        return view != null && readySites(view).equals(names);
      });
    }
  }

  /** The sites {@code view} lists as able to serve: healthy, not draining, with all their models. */
  private Set<String> readySites(JsonObject view) {
    Set<String> ready = new TreeSet<>();
    for (Object o : view.getJsonArray("nodes", new JsonArray())) {
      JsonObject n = (JsonObject) o;
      Set<String> expected = modelsBySite.get(n.getString("name"));
      if (n.getBoolean("healthy", false) && !n.getBoolean("draining", false) && expected != null
          && n.getJsonArray("models", new JsonArray()).size() == expected.size()) {
        ready.add(n.getString("name"));
      }
    }
    return ready;
  }

  /** The sites {@code node} lists in {@code /hive/nodes}, or null when it does not answer. */
  public Set<String> listedSites(LocalNode node) {
    JsonObject view = nodesView(node);
    if (view == null) {
      return null;
    }
    return view.getJsonArray("nodes", new JsonArray()).stream().map(o -> ((JsonObject) o).getString("name"))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** {@code GET /hive/nodes} of {@code node}, or null when it does not answer. */
  public JsonObject nodesView(LocalNode node) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + node.httpPort() + "/hive/nodes")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Kills every node still running, then the sims. */
  @Override
  public void close() {
    for (LocalNode n : nodes()) {
      if (n.isAlive()) {
        n.kill();
      }
    }
    for (OllamaSim sim : sims.values()) {
      await(sim.close());
    }
    await(vertx.close());
  }

  private static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
