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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

  /** Host 3, and host 1: the seed the others joined through, whose own join list names no one. */
  @ParameterizedTest(name = "host{0} cut off")
  @ValueSource(ints = {3, 1})
  void aCutOffHostKeepsServingItsOwnModelsAndTheMeshHealsWhenTheCableIsBack(int cut) throws Exception {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    Path logs = LOGS.resolve("host" + cut + "-cut");
    try (NetNs net = NetNs.create(HOSTS + 1)) {
      MeshKeys keys = MeshKeys.create(logs.resolve("keys"), net, HOSTS + 1, List.of("host1", "host2", "host3"));
      Secured mesh = new Secured(net, keys, cut, logs);
      List<HiveProcess> sims = new ArrayList<>();
      List<HiveProcess> nodes = new ArrayList<>();
      for (int h = 1; h <= HOSTS; h++) {
        sims.add(startSim(net, h, logs, "sim" + h, OLLAMA, OWN_MODEL.get(h) + "," + SHARED));
        List<String> args = new ArrayList<>(List.of("--name", "host" + h, "--host", "0.0.0.0",
            "--port", String.valueOf(HTTP), "--ollama", "http://127.0.0.1:" + OLLAMA,
            "--cluster-host", net.address(h), "--cluster-port", String.valueOf(HAZELCAST),
            "--bus-port", String.valueOf(BUS), "--join", h == 1 ? "" : net.address(1) + ":" + HAZELCAST,
            "--parallel", "4", "--inventory-interval", "250ms"));
        args.addAll(keys.nodeFlags("host" + h));
        nodes.add(HiveProcess.start(net, h, logs, "node" + h, "node", args.toArray(String[]::new)));
      }
      for (int h = 1; h <= HOSTS; h++) {
        sims.get(h - 1).awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
        nodes.get(h - 1).awaitListening(net.address(h), HTTP, Duration.ofSeconds(90));
      }
      List<Integer> all = List.of(1, 2, 3);
      Await.until("the mesh is whole", Duration.ofSeconds(90), () -> mesh.whole(all, all), mesh::lastAnswer);

      List<Integer> majority = all.stream().filter(h -> h != cut).toList();
      Set<String> majoritySites = majority.stream().map(h -> "host" + h).collect(Collectors.toSet());
      String cutModel = OWN_MODEL.get(cut);
      net.linkDown(cut);
      long cutAt = System.nanoTime();
      Map<String, Integer> cutOffModelAnswers = new TreeMap<>();
      List<String> majorityFailures = new ArrayList<>();
      long slowestMs = 0;
      long[] detected = new long[2];
      ExecutorService pollers = Executors.newFixedThreadPool(2);
      try {
        Future<Long> majorityNotices = pollers.submit(() -> timeUntil(cutAt, "the connected hosts drop host" + cut,
            () -> majority.stream().allMatch(h -> mesh.sites(h).equals(majoritySites)
                && mesh.generate(h, cutModel).status() == 404), mesh));
        Future<Long> cutNotices = pollers.submit(() -> timeUntil(cutAt, "host" + cut + " drops the others",
            () -> mesh.sites(cut).equals(Set.of("host" + cut)), mesh));
        // Meanwhile the cut must not cost the connected sites anything, not even while it is being noticed.
        while (!majorityNotices.isDone() || !cutNotices.isDone()) {
          for (int via : majority) {
            for (int owner : majority) {
              long sent = System.nanoTime();
              Curl.Response r = mesh.generate(via, OWN_MODEL.get(owner));
              slowestMs = Math.max(slowestMs, (System.nanoTime() - sent) / 1_000_000);
              if (r.status() != 200) {
                majorityFailures.add(String.format("%d ms: %s via host%d: %d %s", (sent - cutAt) / 1_000_000,
                    OWN_MODEL.get(owner), via, r.status(), r.body().strip()));
              }
            }
          }
          cutOffModelAnswers.merge(String.valueOf(mesh.generate(majority.get(0), cutModel).status()), 1, Integer::sum);
        }
        detected[0] = result(majorityNotices);
        detected[1] = result(cutNotices);
      } finally {
        pollers.shutdownNow();
      }
      assertEquals(List.of(), majorityFailures, "the connected hosts serve each other's models throughout");
      System.out.printf("PartitionIT: host%d cut: the others dropped it after %d ms (answers for %s meanwhile, by"
          + " status, -1 a hang: %s); it dropped the others after %d ms; the connected hosts' own models meanwhile:"
          + " all served, the slowest in %d ms%n", cut, detected[0], cutModel, cutOffModelAnswers, detected[1],
          slowestMs);

      // Both sides serve what they reach for longer than stale entries could live and merges be tried.
      long holdUntil = System.nanoTime() + HOLD_PARTITION.toNanos();
      int rounds = 0;
      while (rounds == 0 || System.nanoTime() < holdUntil) {
        rounds++;
        for (int via : majority) {
          for (int owner : majority) {
            mesh.assertServed(via, OWN_MODEL.get(owner), "host" + owner);
          }
          mesh.assertServed(via, SHARED, null);
          mesh.assertNotFound(via, cutModel);
          assertEquals(majoritySites, mesh.sites(via), "host" + via + " lists only the sites it reaches");
        }
        mesh.assertServed(cut, cutModel, "host" + cut);
        mesh.assertServed(cut, SHARED, "host" + cut);
        mesh.assertNotFound(cut, OWN_MODEL.get(majority.get(0)));
        assertEquals(Set.of("host" + cut), mesh.sites(cut), "host" + cut + " lists only itself");
      }
      System.out.printf("PartitionIT: host%d cut: %d rounds of requests on both sides during the partition, all"
          + " answered%n", cut, rounds);

      net.linkUp(cut);
      long back = System.nanoTime();
      Map<String, Integer> healAnswers = new TreeMap<>();
      Await.until("the mesh heals into one", HEAL_LIMIT, () -> mesh.whole(all, all, healAnswers), mesh::lastAnswer);
      long healed = System.nanoTime() - back;
      System.out.printf("PartitionIT: host%d cut: link up -> every node lists every site and serves every model in"
          + " %d ms (answers while healing, by status: %s)%n", cut, healed / 1_000_000, healAnswers);
      // Healed for good: another full round, every request answered.
      assertTrue(mesh.whole(all, all), "the healed mesh stays whole: " + mesh.lastAnswer());
    }
  }

  /**
   * Node a started alone and b joined through it, so only b's join list names the other: each of
   * them frozen in turn.
   */
  @ParameterizedTest(name = "node {0} frozen")
  @ValueSource(ints = {1, 0})
  void aNodeFrozenPastFailureDetectionIsTakenBackWhenItThaws(int frozenNode) {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    Path logs = LOGS.resolve("node-" + (frozenNode == 0 ? "a" : "b") + "-frozen");
    try (NetNs net = NetNs.create(1)) {
      Plain mesh = new Plain(net, logs);
      List<HiveProcess> sims = new ArrayList<>();
      List<HiveProcess> nodes = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        String name = i == 0 ? "a" : "b";
        sims.add(startSim(net, 1, logs, "sim-" + name, Plain.ollamaPort(i), OWN_MODEL.get(i + 1) + "," + SHARED));
        nodes.add(HiveProcess.start(net, 1, logs, "node-" + name, "node", "--name", name,
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

      int awake = 1 - frozenNode;
      String frozenName = frozenNode == 0 ? "a" : "b";
      String awakeName = awake == 0 ? "a" : "b";
      HiveProcess frozen = nodes.get(frozenNode);
      frozen.freeze();
      long frozenAt = System.nanoTime();
      try {
        Await.until("node " + awakeName + " drops the frozen node", DETECTION_LIMIT,
            () -> mesh.sites(awake).equals(Set.of(awakeName))
                && mesh.generate(awake, OWN_MODEL.get(frozenNode + 1)).status() == 404,
            mesh::lastAnswer);
        // Past the entry's expiry, on to the cluster's own verdict: the frozen member is removed.
        Await.until("the cluster removes the frozen member", DETECTION_LIMIT,
            () -> nodes.get(awake).logContains("site '" + frozenName + "' left the mesh"), nodes.get(awake)::logTail);
      } finally {
        frozen.thaw();
      }
      System.out.printf("PartitionIT: node %s thawed after %d ms frozen, once node %s had dropped it and the cluster"
          + " removed it%n", frozenName, (System.nanoTime() - frozenAt) / 1_000_000, awakeName);
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

  /** Milliseconds from {@code since} until {@code condition} holds. */
  private static long timeUntil(long since, String what, BooleanSupplier condition, Clients clients) {
    Await.until(what, DETECTION_LIMIT, condition, clients::lastAnswer);
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static long result(Future<Long> poller) throws InterruptedException {
    try {
      return poller.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError failed) {
        throw failed;
      }
      throw new AssertionError(e.getCause());
    }
  }

  private static HiveProcess startSim(NetNs net, int host, Path logs, String name, int port, String models) {
    return HiveProcess.start(net, host, logs, name, "sim", "--name", name, "--host", "127.0.0.1",
        "--port", String.valueOf(port), "--models", models, "--load-ms", "0", "--tokens-per-second", "0",
        "--parallel", "4");
  }

  /** What a client of one node sees; the mesh-wide checks are built from it. */
  private abstract static class Clients {

    private final Path logs;
    /** Written by the concurrent pollers too: only ever a whole answer. */
    protected volatile String last = "";

    Clients(Path logs) {
      this.logs = logs;
    }

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
      return "last answer: " + last + "\nlogs in " + logs.toAbsolutePath();
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

  /** Clients of the secured mesh: from the outside host, but from inside the cut host for its own node. */
  private static final class Secured extends Clients {
    private final NetNs net;
    private final MeshKeys keys;
    private final int cut;

    Secured(NetNs net, MeshKeys keys, int cut, Path logs) {
      super(logs);
      this.net = net;
      this.keys = keys;
      this.cut = cut;
    }

    private int clientHost(int node) {
      return node == cut ? cut : OUTSIDE;
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

    Plain(NetNs net, Path logs) {
      super(logs);
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
