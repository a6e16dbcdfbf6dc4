package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.support.netns.Await;
import io.hivemesh.support.netns.Capture;
import io.hivemesh.support.netns.Curl;
import io.hivemesh.support.netns.HiveProcess;
import io.hivemesh.support.netns.MeshKeys;
import io.hivemesh.support.netns.NetNs;
import io.hivemesh.support.netns.TcpConnection;
import io.hivemesh.support.netns.Traffic;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An edge behind a simulated NAT: host 3 can open connections to the mesh (hosts 1 and 2) but
 * refuses every connection from outside (an nftables rule in its namespace). Secured as shipped:
 * the edge dials the nodes' HTTPS port with a token of the {@code edge} scope and checks their
 * certificates against the mesh CA. It streams through either node, moves to node 2 when node 1 is
 * killed, and everything on its link is TLS. Prints the time to first chunk of the edge path next
 * to a full node's remote path.
 */
class EdgeIT {

  private static final Path LOGS = Path.of("target", "netns-logs", "EdgeIT");
  private static final int EDGE = 3;
  private static final int HTTP = 11434;
  private static final int OLLAMA = 11435;
  private static final int HAZELCAST = 5701;
  private static final int BUS = 5801;
  private static final Map<Integer, String> OWN_MODEL = Map.of(1, "llama3.2", 2, "mistral", EDGE, "gemma2");
  private static final String PROMPT = "why is the sky blue over the lab";
  /** Requests per path and round of the latency comparison; the paths alternate for five rounds. */
  private static final int BATCH = 20;
  private static final int ROUNDS = 5;

  @Test
  void anEdgeBehindNatServesTheMeshOverTlsAndMovesWhenItsNodeDies() throws Exception {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
    boolean nft = NetNs.onPath("nft");
    if (!nft && "true".equals(System.getenv("CI"))) {
      throw new IllegalStateException("CI=true, yet EdgeIT cannot run: nft (nftables) is missing");
    }
    assumeTrue(nft, "needs nft (nftables) to keep the edge's host unreachable");
    try (NetNs net = NetNs.create(EDGE)) {
      MeshKeys keys = MeshKeys.create(LOGS.resolve("keys"), net, EDGE, List.of("host1", "host2"));
      String edgeToken = edgeToken(keys);
      List<HiveProcess> nodes = new ArrayList<>();
      for (int h = 1; h <= 2; h++) {
        startSim(net, h, "127.0.0.1", OWN_MODEL.get(h));
        List<String> args = new ArrayList<>(List.of("--name", "host" + h, "--host", "0.0.0.0",
            "--port", String.valueOf(HTTP), "--ollama", "http://127.0.0.1:" + OLLAMA,
            "--cluster-host", net.address(h), "--cluster-port", String.valueOf(HAZELCAST),
            "--bus-port", String.valueOf(BUS), "--join", h == 1 ? "" : net.address(1) + ":" + HAZELCAST,
            "--parallel", "4", "--inventory-interval", "250ms"));
        args.addAll(keys.nodeFlags("host" + h));
        nodes.add(HiveProcess.start(net, h, LOGS, "node" + h, "node", args.toArray(String[]::new)));
      }
      for (int h = 1; h <= 2; h++) {
        nodes.get(h - 1).awaitListening(net.address(h), HTTP, Duration.ofSeconds(90));
      }
      Clients clients = new Clients(net, keys);
      Await.until("the two nodes see each other", Duration.ofSeconds(90),
          () -> clients.served(2, OWN_MODEL.get(1)) && clients.served(1, OWN_MODEL.get(2)), clients::last);

      // The edge's host: its own Ollama listens on every address, yet nothing outside may connect in.
      HiveProcess edgeSim = startSim(net, EDGE, "0.0.0.0", OWN_MODEL.get(EDGE));
      edgeSim.awaitListening("127.0.0.1", OLLAMA, Duration.ofSeconds(90));
      refuseInbound(net, EDGE);
      assertFalse(canConnect(net, 1, net.address(EDGE), OLLAMA), "host 1 cannot reach into the edge's host");
      assertTrue(canConnect(net, EDGE, net.address(1), HTTP), "the edge's host reaches the mesh");

      Capture capture = Capture.start(net, LOGS.resolve("edge-link.pcap"));
      HiveProcess edge = HiveProcess.start(net, EDGE, LOGS, "edge", "edge", "--name", "lab-edge",
          "--ollama", "http://127.0.0.1:" + OLLAMA, "--connect",
          "wss://" + net.address(1) + ":" + HTTP + ",wss://" + net.address(2) + ":" + HTTP,
          "--token", edgeToken, "--mesh-ca", keys.ca(), "--inventory-interval", "250ms");
      Await.until("both nodes serve the edge's model through node 1", Duration.ofSeconds(90),
          () -> "host1".equals(clients.via(1)) && "host1".equals(clients.via(2)) && clients.served(2, "gemma2"),
          () -> clients.last() + "\n" + edge.logTail());

      // Streaming through either node, named by the edge's site.
      for (int via = 1; via <= 2; via++) {
        Curl.Response r = clients.generate(via, "gemma2", true);
        assertEquals(200, r.status(), r.body());
        assertEquals("lab-edge", r.header("X-Hive-Node"));
        List<String> lines = r.body().lines().filter(l -> !l.isBlank()).toList();
        assertTrue(lines.size() > 2, "streamed line by line: " + r.body());
        assertTrue(new JsonObject(lines.get(lines.size() - 1)).getBoolean("done"));
      }

      measureLatency(clients);

      // Node 1 dies: the edge moves to node 2; node 2 stops routing through the dead node within 2 s.
      nodes.get(0).kill();
      long killed = System.nanoTime();
      Await.until("node 2 no longer reaches the edge through the dead node 1", Duration.ofSeconds(2),
          () -> !"host1".equals(clients.via(2)), () -> clients.last() + "\n" + edge.logTail());
      long rerouted = (System.nanoTime() - killed) / 1_000_000;
      Await.until("node 2 serves the edge's model again", Duration.ofSeconds(30),
          () -> clients.served(2, "gemma2"), () -> clients.last() + "\n" + edge.logTail());
      long back = (System.nanoTime() - killed) / 1_000_000;
      assertEquals("host2", clients.via(2));
      assertTrue(edge.logContains("attached to wss://" + net.address(2)), edge.logTail());
      Curl.Response after = clients.generate(2, "gemma2", true);
      assertEquals(200, after.status(), after.body());
      System.out.println("EdgeIT: node 1 killed; node 2 stopped routing through it after " + rerouted + " ms");
      System.out.println("EdgeIT: node 1 killed; the edge's model served through node 2 again after " + back + " ms");

      // The edge stops: its model leaves node 2's listing within 2 s.
      edge.kill();
      long edgeGone = System.nanoTime();
      Await.until("node 2 no longer lists the edge's model", Duration.ofSeconds(2),
          () -> !clients.tags(2).contains("gemma2"), clients::last);
      System.out.println("EdgeIT: edge killed; its model left node 2's /api/tags after "
          + (System.nanoTime() - edgeGone) / 1_000_000 + " ms");
      assertEquals(404, clients.generate(2, "gemma2", false).status());

      List<TcpConnection> link = capture.connections().stream()
          .filter(c -> c.client().address().equals(net.address(EDGE)) || c.server().address().equals(net.address(EDGE)))
          .toList();
      assertTrue(link.stream().noneMatch(c -> c.server().address().equals(net.address(EDGE)) && c.carriesPayload()),
          "nobody connected into the edge's host: " + Traffic.summary(link));
      assertTrue(link.stream().filter(TcpConnection::carriesPayload).map(c -> c.server().address()).distinct().count() >= 2,
          "the edge dialled both nodes: " + Traffic.summary(link));
      Traffic.assertNoPlaintextBetweenHosts(link, PROMPT, "lab-edge", edgeToken.substring(edgeToken.lastIndexOf('.') + 1));
    }
  }

  /** Prints the time to first chunk through node 2 to the edge (attached to node 1) and to node 1's own Ollama. */
  private static void measureLatency(Clients clients) {
    List<Double> edgePath = new ArrayList<>();
    List<Double> remotePath = new ArrayList<>();
    clients.timeToFirstChunk(2, "gemma2", 5);
    clients.timeToFirstChunk(2, OWN_MODEL.get(1), 5);
    for (int round = 0; round < ROUNDS; round++) {
      edgePath.addAll(clients.timeToFirstChunk(2, "gemma2", BATCH));
      remotePath.addAll(clients.timeToFirstChunk(2, OWN_MODEL.get(1), BATCH));
    }
    System.out.printf("EdgeIT: ttfc edge path (client > node2 > node1 > WebSocket > edge > its Ollama), %d requests:"
        + " p50 %.1f ms%n", edgePath.size(), percentile(edgePath, 50));
    System.out.printf("EdgeIT: ttfc edge path p99 %.1f ms%n", percentile(edgePath, 99));
    System.out.printf("EdgeIT: ttfc full node remote path (client > node2 > node1 > its Ollama), %d requests:"
        + " p50 %.1f ms%n", remotePath.size(), percentile(remotePath, 50));
    System.out.printf("EdgeIT: ttfc full node remote path p99 %.1f ms%n", percentile(remotePath, 99));
    System.out.printf("EdgeIT: ttfc added by the edge hop: p50 %.1f ms, p99 %.1f ms%n",
        percentile(edgePath, 50) - percentile(remotePath, 50), percentile(edgePath, 99) - percentile(remotePath, 99));
  }

  private static double percentile(List<Double> values, int p) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }

  private static String edgeToken(MeshKeys keys) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return new TokenMinter(vertx, SigningKey.hmac("--secret-file", keys.secret())).mint(new TokenGrant("lab-edge",
          "edge", List.of(), null, null, null, null, Duration.ofHours(1)));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static HiveProcess startSim(NetNs net, int host, String address, String models) {
    return HiveProcess.start(net, host, LOGS, "sim" + host, "sim", "--name", "sim" + host, "--host", address,
        "--port", String.valueOf(OLLAMA), "--models", models, "--load-ms", "0", "--tokens-per-second", "0",
        "--parallel", "4");
  }

  /** Drops every connection into the host that it did not open itself, as a NAT in front of it would. */
  private static void refuseInbound(NetNs net, int host) {
    for (String[] cmd : List.of(
        new String[] {"nft", "add", "table", "inet", "natlike"},
        new String[] {"nft", "add", "chain", "inet", "natlike", "input",
            "{ type filter hook input priority 0 ; policy accept ; }"},
        new String[] {"nft", "add", "rule", "inet", "natlike", "input", "iif", "lo", "accept"},
        new String[] {"nft", "add", "rule", "inet", "natlike", "input", "ct", "state", "established,related", "accept"},
        new String[] {"nft", "add", "rule", "inet", "natlike", "input", "ct", "state", "new", "drop"})) {
      NetNs.Result r = net.run(host, Duration.ofSeconds(10), cmd);
      assertEquals(0, r.exitCode(), Arrays.toString(cmd) + ": " + r.output());
    }
  }

  private static boolean canConnect(NetNs net, int from, String address, int port) {
    return net.run(from, Duration.ofSeconds(10), "timeout", "3", "bash", "-c", "</dev/tcp/" + address + "/" + port)
        .exitCode() == 0;
  }

  /** curl from host 2's namespace (or host 1's) against a node, as a client of the secured mesh. */
  private static final class Clients {
    private final NetNs net;
    private final MeshKeys keys;
    private volatile String last = "";

    Clients(NetNs net, MeshKeys keys) {
      this.net = net;
      this.keys = keys;
    }

    String last() {
      return last;
    }

    private String url(int node, String path) {
      return "https://" + net.address(node) + ":" + HTTP + path;
    }

    private String body(String model, boolean stream) {
      return new JsonObject().put("model", model).put("prompt", PROMPT).put("stream", stream)
          .put("options", new JsonObject().put("num_predict", 12)).encode();
    }

    Curl.Response generate(int node, String model, boolean stream) {
      Curl.Response r = Curl.post(net, node, url(node, "/api/generate"), body(model, stream), keys.curlAuth());
      last = model + " via host" + node + ": " + r.status() + " " + r.body().strip();
      return r;
    }

    boolean served(int node, String model) {
      return generate(node, model, false).status() == 200;
    }

    String tags(int node) {
      Curl.Response r = Curl.get(net, node, url(node, "/api/tags"), keys.curlAuth());
      last = "tags of host" + node + ": " + r.status() + " " + r.body();
      return r.body();
    }

    /** The node the edge's site is reached through, as {@code node} sees it; null when it lists no edge. */
    String via(int node) {
      Curl.Response r = Curl.get(net, node, url(node, "/hive/nodes"), keys.curlAuth());
      last = "nodes of host" + node + ": " + r.status() + " " + r.body();
      if (r.status() != 200) {
        return null;
      }
      Optional<JsonObject> edge = new JsonObject(r.body()).getJsonArray("nodes").stream().map(JsonObject.class::cast)
          .filter(n -> n.getString("name").equals("lab-edge") && n.getBoolean("healthy")).findFirst();
      return edge.map(n -> n.getString("via")).orElse(null);
    }

    /**
     * Times to first chunk (first byte of the answer after the request went out) of {@code n}
     * streaming requests sent one after another on one kept-alive connection from the node's own host.
     */
    List<Double> timeToFirstChunk(int node, String model, int n) {
      List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "60", "-H", "Content-Type: application/json",
          "--data-raw", body(model, true), "-w", "%{http_code} %{time_pretransfer} %{time_starttransfer}\\n"));
      cmd.addAll(List.of(keys.curlAuth()));
      for (int i = 0; i < n; i++) {
        cmd.addAll(List.of("-o", "/dev/null", url(node, "/api/generate")));
      }
      NetNs.Result r = net.run(node, Duration.ofSeconds(120), cmd.toArray(String[]::new));
      assertEquals(0, r.exitCode(), r.output());
      List<Double> out = new ArrayList<>();
      for (String line : r.output().strip().split("\n")) {
        String[] f = line.strip().split(" ");
        assertEquals("200", f[0], r.output());
        out.add((Double.parseDouble(f[2]) - Double.parseDouble(f[1])) * 1000);
      }
      assertEquals(n, out.size(), r.output());
      assertNotEquals(0, out.size());
      return out;
    }
  }
}
