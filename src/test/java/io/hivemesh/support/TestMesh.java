package io.hivemesh.support;

import io.hivemesh.HiveNode;
import io.hivemesh.NodeConfig;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Several real clustered nodes in this JVM, each beside its own simulated Ollama, joined into one
 * mesh with a cluster name of its own. Test code runs on the JUnit thread, so blocking waits are fine.
 */
public final class TestMesh implements AutoCloseable {

  public final Vertx simVertx = Vertx.vertx();
  public final Map<String, OllamaSim> sims = new LinkedHashMap<>();
  public final Map<String, HiveNode> nodes = new LinkedHashMap<>();
  private final String clusterName = "hive-test-" + UUID.randomUUID();
  private String seed;

  /** Starts a sim with {@code sim} options and a node beside it; the first node is everyone's seed. */
  public HiveNode add(String name, SimOptions sim, String... extraNodeArgs) {
    OllamaSim s = await(OllamaSim.start(simVertx, sim.withName(name).withPort(0)));
    sims.put(name, s);
    return addNode(name, s.url(), extraNodeArgs);
  }

  public HiveNode addNode(String name, String ollamaUrl, String... extraNodeArgs) {
    int clusterPort = freePort();
    List<String> args = new ArrayList<>(List.of("--name", name, "--port", "0", "--ollama", ollamaUrl,
        "--cluster-name", clusterName, "--cluster-port", String.valueOf(clusterPort), "--bus-port", "0",
        "--event-loops", "2", "--inventory-interval", "200ms", "--publish-interval", "100ms", "--entry-ttl", "1s"));
    if (!List.of(extraNodeArgs).stream().anyMatch(a -> a.startsWith("--jw") || a.equals("--insecure-no-auth"))) {
      // Tests of routing and failover run without tokens; SecurityTest gives its nodes keys.
      args.add("--insecure-no-auth");
    }
    if (seed != null) {
      args.addAll(List.of("--join", seed));
    }
    args.addAll(List.of(extraNodeArgs));
    HiveNode node = await(HiveNode.start(NodeConfig.parse(args.toArray(String[]::new), Map.of())));
    if (seed == null) {
      seed = "127.0.0.1:" + clusterPort;
    }
    nodes.put(name, node);
    return node;
  }

  /** Waits until every node sees every node's site live with its inventory. */
  public TestMesh awaitConverged() {
    awaitTrue("all nodes see all sites", Duration.ofSeconds(30), () -> nodes.values().stream().allMatch(n ->
        nodes.keySet().stream().allMatch(site -> n.view().isLive(site))));
    return this;
  }

  public int port(String node) {
    return nodes.get(node).httpPort();
  }

  public static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  public static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  public static int freePort() {
    return Ports.free();
  }

  @Override
  public void close() {
    List<Future<Void>> closing = new ArrayList<>();
    nodes.values().forEach(n -> closing.add(n.close()));
    try {
      Future.join(closing).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // Best effort: a test that crashed a node on purpose leaves nothing to close there.
    }
    await(simVertx.close());
  }
}
