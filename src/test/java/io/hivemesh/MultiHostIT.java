package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.support.netns.Await;
import io.hivemesh.support.netns.Capture;
import io.hivemesh.support.netns.Curl;
import io.hivemesh.support.netns.HiveProcess;
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
 * own, joined over a bridge: the mesh as it runs across machines, with the wire between them
 * captured. Clients ask each node from inside its own host, so everything on the bridge is mesh
 * traffic (Hazelcast and the event bus).
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

  @Test
  void threeHostsFormOneMeshAndEveryNodeServesEveryModel() {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    try (NetNs net = NetNs.create(HOSTS)) {
      // Before any node starts, so every mesh connection is captured from its first byte.
      Capture capture = Capture.start(net, LOGS.resolve("mesh.pcap"));
      List<HiveProcess> processes = new ArrayList<>();
      for (int h = 1; h <= HOSTS; h++) {
        processes.add(startSim(net, h));
        processes.add(startNode(net, h));
      }
      for (int h = 1; h <= HOSTS; h++) {
        processes.get(2 * (h - 1)).awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
        processes.get(2 * (h - 1) + 1).awaitListening(net.address(h), HTTP, Duration.ofSeconds(90));
      }
      awaitEveryNodeSeesEverySite(net);

      for (int via = 1; via <= HOSTS; via++) {
        for (int owner = 1; owner <= HOSTS; owner++) {
          assertServed(net, via, OWN_MODEL.get(owner), "host" + owner);
        }
        assertServed(net, via, SHARED, null);
      }

      List<TcpConnection> connections = capture.connections();
      System.out.println("MultiHostIT: the wire between hosts\n" + Traffic.summary(connections));
      assertMeshTrafficCrossedTheBridge(net, connections);
      // The secure-mesh test asserts Traffic.assertNoPlaintextBetweenHosts(connections, ...) on this capture.
    }
  }

  private static HiveProcess startSim(NetNs net, int h) {
    return HiveProcess.start(net, h, LOGS, "sim" + h, "sim", "--name", "sim" + h,
        "--host", "127.0.0.1", "--port", String.valueOf(OLLAMA), "--models", OWN_MODEL.get(h) + "," + SHARED,
        "--load-ms", "0", "--tokens-per-second", "0", "--parallel", "4");
  }

  private static HiveProcess startNode(NetNs net, int h) {
    String seeds = java.util.stream.IntStream.rangeClosed(1, HOSTS).mapToObj(i -> net.address(i) + ":" + HAZELCAST)
        .collect(Collectors.joining(","));
    return HiveProcess.start(net, h, LOGS, "node" + h, "node", "--name", "host" + h,
        "--host", "0.0.0.0", "--port", String.valueOf(HTTP), "--ollama", "http://127.0.0.1:" + OLLAMA,
        "--cluster-host", net.address(h), "--cluster-port", String.valueOf(HAZELCAST),
        "--bus-port", String.valueOf(BUS), "--join", seeds, "--parallel", "4", "--inventory-interval", "250ms");
  }

  /** Every node lists all three sites, healthy and with their models. */
  private static void awaitEveryNodeSeesEverySite(NetNs net) {
    Set<String> all = Set.of("host1", "host2", "host3");
    String[] last = {""};
    Await.until("every node lists all " + HOSTS + " sites with their models", Duration.ofSeconds(60), () -> {
      for (int h = 1; h <= HOSTS; h++) {
        Curl.Response r = Curl.get(net, h, url(net, h, "/hive/nodes"));
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
        ? Curl.post(net, via, url(net, via, "/api/embed"), "{\"model\":\"" + model + "\",\"input\":\"" + PROMPT + "\"}")
        : Curl.post(net, via, url(net, via, "/api/generate"),
            "{\"model\":\"" + model + "\",\"prompt\":\"" + PROMPT + "\",\"options\":{\"num_predict\":8}}");
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
    return "http://" + net.address(h) + ":" + HTTP + path;
  }
}
