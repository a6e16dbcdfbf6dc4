package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.support.netns.Await;
import io.hivemesh.support.netns.Curl;
import io.hivemesh.support.netns.HiveProcess;
import io.hivemesh.support.netns.MeshKeys;
import io.hivemesh.support.netns.NetNs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A host cut off by the network, not crashed: both sides keep serving what they can reach, the
 * other side's models leave their listings and routing, and when the cable is back the mesh heals
 * into one without restarting anything. Secured as shipped (tokens, HTTPS, Hazelcast inside the
 * mesh's TLS tunnel); and, on one host's loopback in plaintext, a node frozen past the failure
 * detection (SIGSTOP, as under CPU starvation) that must be taken back when it thaws.
 */
class PartitionIT {

  private static final Path LOGS = Path.of("target", "netns-logs", "PartitionIT");
  private static final int HOSTS = 3;
  private static final int OUTSIDE = 4;
  private static final int CUT = 3;
  private static final int HTTP = 11434;
  private static final int OLLAMA = 11435;
  private static final int HAZELCAST = 5701;
  private static final int BUS = 5801;
  private static final String SHARED = "phi3";
  private static final Map<Integer, String> OWN_MODEL = Map.of(1, "llama3.2", 2, "mistral", 3, "gemma2");
  /** A request that neither answers nor fails within this is a hang. */
  private static final String MAX_SECONDS = "10";
  private static final Duration DETECTION_LIMIT = Duration.ofSeconds(60);
  private static final Duration HEAL_LIMIT = Duration.ofSeconds(120);
  /** Longer than an inventory entry lives (4 × entry-ttl = 12 s) and than a merge attempt's period (10 s). */
  private static final Duration HOLD_PARTITION = Duration.ofSeconds(15);

  @Test
  void aCutOffHostKeepsServingItsOwnModelsAndTheMeshHealsWhenTheCableIsBack() throws Exception {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    try (NetNs net = NetNs.create(HOSTS + 1)) {
      MeshKeys keys = MeshKeys.create(LOGS.resolve("keys"), net, HOSTS + 1, List.of("host1", "host2", "host3"));
      Secured mesh = new Secured(net, keys);
      List<HiveProcess> sims = new ArrayList<>();
      List<HiveProcess> nodes = new ArrayList<>();
      for (int h = 1; h <= HOSTS; h++) {
        sims.add(startSim(net, h, "sim" + h, OLLAMA, OWN_MODEL.get(h) + "," + SHARED));
        List<String> args = new ArrayList<>(List.of("--name", "host" + h, "--host", "0.0.0.0",
            "--port", String.valueOf(HTTP), "--ollama", "http://127.0.0.1:" + OLLAMA,
            "--cluster-host", net.address(h), "--cluster-port", String.valueOf(HAZELCAST),
            "--bus-port", String.valueOf(BUS), "--join", h == 1 ? "" : net.address(1) + ":" + HAZELCAST,
            "--parallel", "4", "--inventory-interval", "250ms"));
        args.addAll(keys.nodeFlags("host" + h));
        nodes.add(HiveProcess.start(net, h, LOGS, "node" + h, "node", args.toArray(String[]::new)));
      }
      for (int h = 1; h <= HOSTS; h++) {
        sims.get(h - 1).awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
        nodes.get(h - 1).awaitListening(net.address(h), HTTP, Duration.ofSeconds(90));
      }
      List<Integer> all = List.of(1, 2, 3);
      Await.until("the mesh is whole", Duration.ofSeconds(90), () -> mesh.whole(all, all), mesh::lastAnswer);

      net.linkDown(CUT);
      long cut = System.nanoTime();
      List<Integer> majority = List.of(1, 2);
      Map<String, Integer> cutOffModelAnswers = new TreeMap<>();
      long[] detected = {-1, -1};
      Await.until("both sides notice the cut", DETECTION_LIMIT, () -> {
        if (detected[0] < 0) {
          Curl.Response r = mesh.generate(1, OWN_MODEL.get(CUT));
          cutOffModelAnswers.merge(String.valueOf(r.status()), 1, Integer::sum);
          if (majority.stream().allMatch(h -> mesh.sites(h).equals(Set.of("host1", "host2"))
              && mesh.generate(h, OWN_MODEL.get(CUT)).status() == 404)) {
            detected[0] = System.nanoTime() - cut;
          }
        }
        if (detected[1] < 0 && mesh.sites(CUT).equals(Set.of("host3"))) {
          detected[1] = System.nanoTime() - cut;
        }
        return detected[0] >= 0 && detected[1] >= 0;
      }, mesh::lastAnswer);
      System.out.printf("PartitionIT: the majority dropped host3 after %d ms (answers for %s meanwhile, by status,"
          + " -1 a hang: %s); host3 dropped the others after %d ms%n", detected[0] / 1_000_000, OWN_MODEL.get(CUT),
          cutOffModelAnswers, detected[1] / 1_000_000);

      // Both sides serve what they reach for longer than stale entries could live and merges be tried.
      long holdUntil = System.nanoTime() + HOLD_PARTITION.toNanos();
      int rounds = 0;
      while (rounds == 0 || System.nanoTime() < holdUntil) {
        rounds++;
        for (int via : majority) {
          for (String model : List.of(OWN_MODEL.get(1), OWN_MODEL.get(2), SHARED)) {
            mesh.assertServed(via, model, model.equals(SHARED) ? null : "host" + (model.equals(OWN_MODEL.get(1)) ? 1 : 2));
          }
          mesh.assertNotFound(via, OWN_MODEL.get(CUT));
          assertEquals(Set.of("host1", "host2"), mesh.sites(via), "host" + via + " lists only the sites it reaches");
        }
        mesh.assertServed(CUT, OWN_MODEL.get(CUT), "host3");
        mesh.assertServed(CUT, SHARED, "host3");
        mesh.assertNotFound(CUT, OWN_MODEL.get(1));
        assertEquals(Set.of("host3"), mesh.sites(CUT), "host3 lists only itself");
      }
      System.out.printf("PartitionIT: %d rounds of requests on both sides during the partition, all answered%n", rounds);

      net.linkUp(CUT);
      long back = System.nanoTime();
      Map<String, Integer> healAnswers = new TreeMap<>();
      Await.until("the mesh heals into one", HEAL_LIMIT, () -> mesh.whole(all, all, healAnswers), mesh::lastAnswer);
      long healed = System.nanoTime() - back;
      System.out.printf("PartitionIT: link up -> every node lists every site and serves every model in %d ms"
          + " (answers while healing, by status: %s)%n", healed / 1_000_000, healAnswers);
      // Healed for good: another full round, every request answered.
      assertTrue(mesh.whole(all, all), "the healed mesh stays whole: " + mesh.lastAnswer());
    }
  }

  @Test
  void aNodeFrozenPastFailureDetectionIsTakenBackWhenItThaws() {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    try (NetNs net = NetNs.create(1)) {
      Plain mesh = new Plain(net);
      List<HiveProcess> sims = new ArrayList<>();
      List<HiveProcess> nodes = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        String name = i == 0 ? "a" : "b";
        sims.add(startSim(net, 1, "frozen-sim-" + name, Plain.ollamaPort(i), OWN_MODEL.get(i + 1) + "," + SHARED));
        nodes.add(HiveProcess.start(net, 1, LOGS, "frozen-node-" + name, "node", "--name", name,
            "--insecure-no-auth", "--host", "127.0.0.1", "--port", String.valueOf(Plain.httpPort(i)),
            "--ollama", "http://127.0.0.1:" + Plain.ollamaPort(i), "--cluster-host", "127.0.0.1",
            "--cluster-port", String.valueOf(HAZELCAST + i), "--bus-port", String.valueOf(BUS + i),
            "--join", i == 0 ? "" : "127.0.0.1:" + HAZELCAST, "--parallel", "4", "--inventory-interval", "250ms"));
      }
      for (int i = 0; i < 2; i++) {
        sims.get(i).awaitListening("127.0.0.1", Plain.ollamaPort(i), Duration.ofSeconds(90));
        nodes.get(i).awaitListening("127.0.0.1", Plain.httpPort(i), Duration.ofSeconds(90));
      }
      Await.until("both nodes list both sites and serve every model", Duration.ofSeconds(90), mesh::whole,
          mesh::lastAnswer);

      HiveProcess frozen = nodes.get(1);
      frozen.freeze();
      long frozenAt = System.nanoTime();
      try {
        Await.until("node a drops the frozen node", DETECTION_LIMIT,
            () -> mesh.sites(0).equals(Set.of("a")) && mesh.generate(0, OWN_MODEL.get(2)).status() == 404,
            mesh::lastAnswer);
        // Past the entry's expiry, on to the cluster's own verdict: the frozen member is removed.
        Await.until("the cluster removes the frozen member", DETECTION_LIMIT,
            () -> nodes.get(0).logContains("site 'b' left the mesh"), nodes.get(0)::logTail);
      } finally {
        frozen.thaw();
      }
      System.out.printf("PartitionIT: node b thawed after %d ms frozen, once node a had dropped it and the cluster"
          + " removed it%n", (System.nanoTime() - frozenAt) / 1_000_000);
      long thawed = System.nanoTime();
      Map<String, Integer> answers = new TreeMap<>();
      Await.until("the thawed node is back in the mesh, serving", HEAL_LIMIT, () -> mesh.whole(answers),
          mesh::lastAnswer);
      System.out.printf("PartitionIT: thaw -> both nodes list both sites and serve every model in %d ms"
          + " (answers meanwhile, by status: %s)%n", (System.nanoTime() - thawed) / 1_000_000, answers);
      for (int round = 0; round < 5; round++) {
        assertTrue(mesh.whole(), "the mesh stays whole after the thaw: " + mesh.lastAnswer());
      }
    }
  }

  private static HiveProcess startSim(NetNs net, int host, String name, int port, String models) {
    return HiveProcess.start(net, host, LOGS, name, "sim", "--name", name, "--host", "127.0.0.1",
        "--port", String.valueOf(port), "--models", models, "--load-ms", "0", "--tokens-per-second", "0",
        "--parallel", "4");
  }

  /** What a client of one node sees; the mesh-wide checks are built from it. */
  private abstract static class Clients {

    protected String last = "";

    abstract Curl.Response get(int node, String path);

    abstract Curl.Response post(int node, String path, String json);

    /** A short generation through {@code node}; status -1 when it neither answered nor failed in time. */
    Curl.Response generate(int node, String model) {
      return post(node, "/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"still there?\",\"stream\":false,"
          + "\"options\":{\"num_predict\":4}}");
    }

    /** The sites {@code node} lists in /hive/nodes as healthy and holding their two models. */
    Set<String> sites(int node) {
      Curl.Response r = get(node, "/hive/nodes");
      if (r.status() != 200) {
        return Set.of("(" + r.status() + ")");
      }
      return new JsonObject(r.body()).getJsonArray("nodes").stream().map(JsonObject.class::cast)
          .filter(n -> n.getBoolean("healthy") && n.getJsonArray("models", new JsonArray()).size() == 2)
          .map(n -> n.getString("name")).collect(Collectors.toSet());
    }

    void assertServed(int node, String model, String site) {
      Curl.Response r = generate(node, model);
      String what = model + " via node " + node;
      assertEquals(200, r.status(), what + ": " + r.body());
      assertEquals(true, new JsonObject(r.body()).getBoolean("done"), what + ": " + r.body());
      if (site != null) {
        assertEquals(site, r.header("X-Hive-Node"), what);
      }
    }

    void assertNotFound(int node, String model) {
      Curl.Response r = generate(node, model);
      assertEquals(404, r.status(), model + " via node " + node + ": " + r.body());
      assertEquals("model '" + model + "' not found", new JsonObject(r.body()).getString("error"));
    }

    /**
     * Every node of {@code nodes} lists every site of {@code sites} and serves every one of their
     * models; each answer to a generation is counted in {@code answers} by status.
     */
    boolean whole(Set<String> siteNames, List<Integer> nodes, List<String> models, Map<String, Integer> answers) {
      for (int node : nodes) {
        if (!sites(node).equals(siteNames)) {
          return false;
        }
      }
      for (int node : nodes) {
        for (String model : models) {
          Curl.Response r = generate(node, model);
          answers.merge(String.valueOf(r.status()), 1, Integer::sum);
          if (r.status() != 200) {
            return false;
          }
        }
      }
      return true;
    }

    String lastAnswer() {
      return "last answer: " + last + "\nlogs in " + LOGS.toAbsolutePath();
    }

    protected Curl.Response record(int node, String path, java.util.function.Supplier<Curl.Response> send) {
      try {
        Curl.Response r = send.get();
        last = "node " + node + " " + path + ": " + r.status() + " " + r.body();
        return r;
      } catch (AssertionError e) {
        last = "node " + node + " " + path + ": " + e.getMessage();
        return new Curl.Response(-1, Map.of(), e.getMessage());
      }
    }
  }

  /** Clients of the secured mesh: outside for hosts 1 and 2, inside host 3 for its node (reachable during the cut). */
  private static final class Secured extends Clients {
    private final NetNs net;
    private final MeshKeys keys;

    Secured(NetNs net, MeshKeys keys) {
      this.net = net;
      this.keys = keys;
    }

    private int clientHost(int node) {
      return node == CUT ? CUT : OUTSIDE;
    }

    private String[] options() {
      List<String> o = new ArrayList<>(List.of(keys.curlAuth()));
      o.addAll(List.of("-m", MAX_SECONDS));
      return o.toArray(String[]::new);
    }

    private String url(int node, String path) {
      return "https://" + net.address(node) + ":" + HTTP + path;
    }

    @Override
    Curl.Response get(int node, String path) {
      return record(node, path, () -> Curl.get(net, clientHost(node), url(node, path), options()));
    }

    @Override
    Curl.Response post(int node, String path, String json) {
      return record(node, path, () -> Curl.post(net, clientHost(node), url(node, path), json, options()));
    }

    boolean whole(List<Integer> nodes, List<Integer> hosts) {
      return whole(nodes, hosts, new TreeMap<>());
    }

    boolean whole(List<Integer> nodes, List<Integer> hosts, Map<String, Integer> answers) {
      List<String> models = new ArrayList<>(hosts.stream().map(OWN_MODEL::get).toList());
      models.add(SHARED);
      return whole(hosts.stream().map(h -> "host" + h).collect(Collectors.toSet()), nodes, models, answers);
    }
  }

  /** Clients of two plaintext nodes, 0 ("a") and 1 ("b"), on one host's loopback. */
  private static final class Plain extends Clients {
    private final NetNs net;

    Plain(NetNs net) {
      this.net = net;
    }

    static int httpPort(int node) {
      return HTTP + 10 * node;
    }

    static int ollamaPort(int node) {
      return OLLAMA + 10 * node;
    }

    private String url(int node, String path) {
      return "http://127.0.0.1:" + httpPort(node) + path;
    }

    @Override
    Curl.Response get(int node, String path) {
      return record(node, path, () -> Curl.get(net, 1, url(node, path), "-m", MAX_SECONDS));
    }

    @Override
    Curl.Response post(int node, String path, String json) {
      return record(node, path, () -> Curl.post(net, 1, url(node, path), json, "-m", MAX_SECONDS));
    }

    boolean whole() {
      return whole(new TreeMap<>());
    }

    boolean whole(Map<String, Integer> answers) {
      return whole(Set.of("a", "b"), List.of(0, 1), List.of(OWN_MODEL.get(1), OWN_MODEL.get(2), SHARED), answers);
    }
  }
}
