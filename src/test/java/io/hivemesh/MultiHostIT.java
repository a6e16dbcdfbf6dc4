package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.security.MeshPki;
import io.hivemesh.support.netns.Await;
import io.hivemesh.support.netns.Capture;
import io.hivemesh.support.netns.Curl;
import io.hivemesh.support.netns.HiveProcess;
import io.hivemesh.support.netns.MeshKeys;
import io.hivemesh.support.netns.NetNs;
import io.hivemesh.support.netns.TcpConnection;
import io.hivemesh.support.netns.Traffic;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Three hosts, each a network namespace with its own address, a sim and a node in JVMs of their
 * own, joined over a bridge: the mesh as it runs across machines, secured as shipped (client
 * tokens, HTTPS, mutual TLS between nodes), with every byte on the wire between hosts captured.
 * A fourth host is the outside: a client of every node, and a node whose certificate comes from
 * another CA. Host 3's Ollama answers HTTPS only (as one behind a TLS-terminating proxy would),
 * with a certificate of its own CA, which its node is given with {@code --ollama-ca}.
 */
class MultiHostIT {

  private static final Path LOGS = Path.of("target", "netns-logs", "MultiHostIT");
  private static final int HOSTS = 3;
  private static final int HTTP = 11434;
  private static final int OLLAMA = 11435;
  private static final int HAZELCAST = 5701;
  private static final int BUS = 5801;
  private static final String SHARED = "phi3";
  /** Each host's own model; the shared one lives everywhere. */
  private static final Map<Integer, String> OWN_MODEL = Map.of(1, "llama3.2", 2, "mistral", 3, "nomic-embed-text");
  private static final String PROMPT = "what crosses the wire between hosts";
  private static final int OUTSIDE = 4;
  /** The host whose Ollama serves HTTPS. */
  private static final int TLS_OLLAMA = 3;
  private static final Path OLLAMA_PKI = LOGS.resolve("ollama-pki");
  private static MeshKeys keys;
  /** The rogue's: the mesh's JWT secret, but a certificate from another CA. */
  private static MeshKeys rogueKeys;

  @Test
  void threeHostsFormOneTlsMeshAndNothingCrossesTheWireInTheClear() throws Exception {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    try (NetNs net = NetNs.create(HOSTS + 1)) {
      prepareKeys(net);
      // Before any node starts, so every mesh connection is captured from its first byte.
      Capture capture = Capture.start(net, LOGS.resolve("mesh.pcap"));
      List<HiveProcess> processes = new ArrayList<>();
      for (int h = 1; h <= HOSTS; h++) {
        processes.add(startSim(net, h, OWN_MODEL.get(h) + "," + SHARED));
        processes.add(startNode(net, h, "host" + h, keys));
      }
      for (int h = 1; h <= HOSTS; h++) {
        processes.get(2 * (h - 1)).awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
        processes.get(2 * (h - 1) + 1).awaitListening(net.address(h), HTTP, Duration.ofSeconds(90));
      }
      awaitEveryNodeSeesEverySite(net);

      // Host 3's Ollama speaks TLS only: what its node got from it came over TLS.
      assertTrue(Curl.get(net, TLS_OLLAMA, "https://127.0.0.1:" + OLLAMA + "/api/tags", "--cacert",
          OLLAMA_PKI.resolve("ca.crt").toAbsolutePath().toString()).body().contains(OWN_MODEL.get(TLS_OLLAMA)));
      assertPlainHttpRefused(net, TLS_OLLAMA);

      // An outside client reaches every node over HTTPS with a token, and gets every model.
      for (int via = 1; via <= HOSTS; via++) {
        for (int owner = 1; owner <= HOSTS; owner++) {
          assertServed(net, via, OWN_MODEL.get(owner), "host" + owner);
        }
        assertServed(net, via, SHARED, null);
        assertEquals(401, Curl.get(net, OUTSIDE, url(net, via, "/api/tags"), "--cacert", ca()).status(),
            "no token, no answer");
      }

      // A node with a certificate from another CA: same JWT secret, same cluster name, right seeds.
      HiveProcess rogueSim = startSim(net, OUTSIDE, "rogue-model");
      HiveProcess rogue = startNode(net, OUTSIDE, "rogue", rogueKeys);
      rogueSim.awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
      rogue.awaitListening(net.address(OUTSIDE), HTTP, Duration.ofSeconds(90));
      Await.until("the rogue node reports that the mesh refused its certificate", Duration.ofSeconds(30),
          () -> rogue.logTail().contains("TLS handshake failed"), rogue::logTail);
      for (int via = 1; via <= HOSTS; via++) {
        assertServed(net, via, SHARED, null);
        Curl.Response tags = Curl.get(net, OUTSIDE, url(net, via, "/api/tags"), auth());
        assertFalse(tags.body().contains("rogue-model"), "the rogue's model never joins the mesh: " + tags.body());
        Curl.Response nodes = Curl.get(net, OUTSIDE, url(net, via, "/hive/nodes"), auth());
        assertFalse(nodes.body().contains("\"rogue\""), "the rogue site is not in the mesh: " + nodes.body());
      }
      // Its node serves HTTP a moment before it lists its own site: wait for that, then it must be alone.
      String[] alone = {""};
      Await.until("the rogue lists its own site", Duration.ofSeconds(30), () -> {
        alone[0] = Curl.get(net, OUTSIDE, url(net, OUTSIDE, "/hive/nodes"), "--cacert",
            rogueKeys.ca(), "-H", "Authorization: Bearer " + keys.token()).body();
        return alone[0].contains("\"rogue\"");
      }, () -> alone[0]);
      assertEquals(1, new JsonObject(alone[0]).getJsonArray("nodes").size(), "the rogue sees only itself: " + alone[0]);

      List<TcpConnection> connections = capture.connections();
      System.out.println("MultiHostIT: the wire between hosts\n" + Traffic.summary(connections));
      assertMeshTrafficCrossedTheBridge(net, connections);
      // Hazelcast's short "HZC" preamble is covered by the record framing check, not by a search.
      Traffic.assertNoPlaintextBetweenHosts(connections, PROMPT, "\"model\"", "hive.site", "__vertx",
          "Authorization", "Bearer ", keys.token());
    }
  }

  /** The mesh CA with one certificate per host, a foreign CA for the rogue, the JWT secret, a token. */
  private static void prepareKeys(NetNs net) throws Exception {
    keys = MeshKeys.create(LOGS.resolve("keys"), net, HOSTS + 1, List.of("host1", "host2", "host3"));
    Path roguePki = keys.pki().resolveSibling("rogue-pki");
    // Clients check the HTTPS certificate's names: give every certificate the hosts' addresses.
    List<String> addresses = java.util.stream.IntStream.rangeClosed(1, HOSTS + 1).mapToObj(net::address).toList();
    MeshPki.create(roguePki, List.of("rogue"), addresses, Duration.ofDays(1));
    rogueKeys = new MeshKeys(roguePki, keys.secret(), keys.token());
    // Host 3's Ollama: a certificate naming 127.0.0.1, from a CA of its own (not the mesh's).
    deleteRecursively(OLLAMA_PKI);
    MeshPki.create(OLLAMA_PKI, List.of("ollama"), List.of(), Duration.ofDays(1));
  }

  private static void deleteRecursively(Path dir) throws java.io.IOException {
    if (java.nio.file.Files.exists(dir)) {
      try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(dir)) {
        for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(p);
        }
      }
    }
  }

  /** A plain-HTTP request to host {@code h}'s Ollama gets no HTTP answer. */
  private static void assertPlainHttpRefused(NetNs net, int h) {
    try {
      Curl.Response r = Curl.get(net, h, "http://127.0.0.1:" + OLLAMA + "/api/tags");
      assertTrue(r.status() != 200, "plain HTTP answered: " + r.body());
    } catch (AssertionError expected) {
      // curl failed: no HTTP answer at all.
    }
  }

  private static String ca() {
    return keys.ca();
  }

  /** curl options of an outside client: trust the mesh CA, send the token. */
  private static String[] auth() {
    return keys.curlAuth();
  }

  private static HiveProcess startSim(NetNs net, int h, String models) {
    List<String> args = new ArrayList<>(List.of("--name", "sim" + h,
        "--host", "127.0.0.1", "--port", String.valueOf(OLLAMA), "--models", models,
        "--load-ms", "0", "--tokens-per-second", "0", "--parallel", "4"));
    if (h == TLS_OLLAMA) {
      args.addAll(List.of("--tls-cert", OLLAMA_PKI.resolve("ollama.crt").toAbsolutePath().toString(),
          "--tls-key", OLLAMA_PKI.resolve("ollama.key").toAbsolutePath().toString()));
    }
    return HiveProcess.start(net, h, LOGS, "sim" + h, "sim", args.toArray(String[]::new));
  }

  /** A node whose mesh certificate is {@code name}'s from {@code nodeKeys}; it also serves HTTPS with it. */
  private static HiveProcess startNode(NetNs net, int h, String name, MeshKeys nodeKeys) {
    // One seed is enough: the others learn of each other through the tunnel's greetings.
    String seeds = h == 1 ? "" : net.address(1) + ":" + HAZELCAST;
    List<String> args = new ArrayList<>(List.of("--name", name,
        "--host", "0.0.0.0", "--port", String.valueOf(HTTP),
        "--cluster-host", net.address(h), "--cluster-port", String.valueOf(HAZELCAST),
        "--bus-port", String.valueOf(BUS), "--join", seeds, "--parallel", "4", "--inventory-interval", "250ms"));
    if (h == TLS_OLLAMA) {
      args.addAll(List.of("--ollama", "https://127.0.0.1:" + OLLAMA,
          "--ollama-ca", OLLAMA_PKI.resolve("ca.crt").toAbsolutePath().toString()));
    } else {
      args.addAll(List.of("--ollama", "http://127.0.0.1:" + OLLAMA));
    }
    args.addAll(nodeKeys.nodeFlags(name));
    return HiveProcess.start(net, h, LOGS, "node" + h, "node", args.toArray(String[]::new));
  }

  /** Every node lists all three sites, healthy and with their models. */
  private static void awaitEveryNodeSeesEverySite(NetNs net) {
    Set<String> all = Set.of("host1", "host2", "host3");
    String[] last = {""};
    Await.until("every node lists all " + HOSTS + " sites with their models", Duration.ofSeconds(60), () -> {
      for (int h = 1; h <= HOSTS; h++) {
        Curl.Response r = Curl.get(net, h, url(net, h, "/hive/nodes"), auth());
        last[0] = "host" + h + ": " + r.status() + " " + r.body();
        Set<String> ready = r.status() != 200 ? Set.of() : new JsonObject(r.body()).getJsonArray("nodes").stream()
            .map(JsonObject.class::cast)
            .filter(n -> n.getBoolean("healthy") && n.getJsonArray("models", new JsonArray()).size() == 2)
            .map(n -> n.getString("name")).collect(Collectors.toSet());
        if (!ready.equals(all)) {
          return false;
        }
      }
      return true;
    }, () -> "last answer: " + last[0] + "\nlogs in " + LOGS.toAbsolutePath());
  }

  /** A streamed generation, or an embedding for the embedding model; {@code site} null when any may serve. */
  private static void assertServed(NetNs net, int via, String model, String site) {
    boolean embedding = model.startsWith("nomic-embed");
    Curl.Response r = embedding
        ? Curl.post(net, OUTSIDE, url(net, via, "/api/embed"), "{\"model\":\"" + model + "\",\"input\":\"" + PROMPT + "\"}",
            auth())
        : Curl.post(net, OUTSIDE, url(net, via, "/api/generate"),
            "{\"model\":\"" + model + "\",\"prompt\":\"" + PROMPT + "\",\"options\":{\"num_predict\":8}}", auth());
    String what = model + " via host" + via;
    assertEquals(200, r.status(), what + ": " + r.body());
    if (embedding) {
      assertEquals(1, new JsonObject(r.body()).getJsonArray("embeddings").size(), what);
    } else {
      List<String> lines = r.body().lines().toList();
      assertTrue(lines.size() > 1, what + " streams line by line: " + r.body());
      assertEquals(true, new JsonObject(lines.get(lines.size() - 1)).getBoolean("done"), what + ": " + r.body());
    }
    if (site != null) {
      assertEquals(site, r.header("X-Hive-Node"), what);
    }
  }

  /**
   * True with or without TLS: each pair of hosts holds a Hazelcast connection, and each host's
   * requests for the other hosts' models went to them over the event bus.
   */
  private static void assertMeshTrafficCrossedTheBridge(NetNs net, List<TcpConnection> connections) {
    String summary = Traffic.summary(connections);
    for (int a = 1; a <= HOSTS; a++) {
      for (int b = 1; b <= HOSTS; b++) {
        if (a == b) {
          continue;
        }
        String from = net.address(a);
        String to = net.address(b);
        if (a < b) {
          assertTrue(connections.stream().anyMatch(c -> c.server().port() == HAZELCAST && c.carriesPayload()
                  && Set.of(c.client().address(), c.server().address()).equals(Set.of(from, to))),
              "a Hazelcast connection between " + from + " and " + to + "\n" + summary);
        }
        assertTrue(connections.stream().anyMatch(c -> c.client().address().equals(from)
                && c.server().address().equals(to) && c.server().port() == BUS && c.carriesPayload()),
            "an event bus connection from " + from + " to " + to + "\n" + summary);
      }
    }
  }

  private static String url(NetNs net, int h, String path) {
    return "https://" + net.address(h) + ":" + HTTP + path;
  }
}
