package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.load.Ledger;
import io.hivemesh.support.load.LoadDriver;
import io.hivemesh.support.loopback.LocalMesh;
import io.hivemesh.support.loopback.LocalNode;
import io.hivemesh.support.netns.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart under steady load: each node in turn gets SIGTERM, drains, leaves, and starts
 * again; clients talk to every node. Nothing is lost and no accepted request fails: the only
 * refusals are before acceptance (a draining node's 503, a stopped node's refused connection),
 * which the driver retries on another node, as a load balancer would.
 */
class RollingRestartIT {

  private static final Path LOGS = Path.of("target", "it-logs", "RollingRestartIT");
  private static final String MODEL = "llama3.2";

  @Test
  void restartingEveryNodeInTurnLosesNothing() {
    long testStart = System.nanoTime();
    int rounds = Boolean.getBoolean("hive.soak") ? 3 : 1;
    SimOptions sim = SimOptions.defaults().withModels(MODEL).withParallel(16).withLoadMs(0).withTokensPerSecond(40);
    List<String> nodeArgs = List.of("--parallel", "16", "--inventory-interval", "250ms", "--drain-timeout", "30s");
    try (LocalMesh mesh = new LocalMesh(LOGS)) {
      List<LocalNode> nodes = List.of(mesh.addSite("node-1", sim, List.of(), nodeArgs),
          mesh.addSite("node-2", sim, List.of(), nodeArgs), mesh.addSite("node-3", sim, List.of(), nodeArgs));
      mesh.awaitMesh(nodes, Duration.ofSeconds(120));

      LoadDriver driver = LoadDriver.start(LoadDriver.Options.defaults("rolling", List.of(MODEL)).withConcurrency(9),
          nodes.stream().map(n -> new LoadDriver.Entry(n.name(), n.httpPort())).toList());
      for (int round = 0; round < rounds; round++) {
        for (LocalNode node : nodes) {
          long before = driver.ledger().answered();
          Await.until("some requests answered before restarting " + node.name(), Duration.ofSeconds(60),
              () -> driver.ledger().answered() >= before + 10, () -> driver.ledger().summary());
          long stopAt = System.nanoTime();
          node.terminate();
          node.awaitExit(Duration.ofSeconds(60));
          long stopped = System.nanoTime();
          mesh.restart(node);
          mesh.awaitMesh(nodes, Duration.ofSeconds(120));
          System.out.println("RollingRestartIT: " + node.name() + " drained and left in " + (stopped - stopAt) / 1_000_000
              + " ms, back in the mesh after " + (System.nanoTime() - stopped) / 1_000_000 + " ms");
        }
      }
      long after = driver.ledger().answered();
      Await.until("requests answered after the last restart", Duration.ofSeconds(60),
          () -> driver.ledger().answered() >= after + 10, () -> driver.ledger().summary());
      Ledger ledger = driver.stop();
      ledger.writeTo(LOGS.resolve("ledger.txt"));
      System.out.println("RollingRestartIT: ledger " + ledger.summary());
      System.out.println("RollingRestartIT: client retries (refused before acceptance) " + ledger.clientRetries());

      ledger.assertComplete();
      assertEquals(0, ledger.errored(), "no accepted request fails in a rolling restart: " + ledger.summary());
      ledger.assertNothingServedTwice(mesh.simStats(), Set.of());
      for (LocalNode n : nodes) {
        assertTrue(ledger.servedBy(n.name()) > 0, n.name() + " served requests: " + ledger.summary());
      }
      System.out.println("RollingRestartIT: took " + (System.nanoTime() - testStart) / 1_000_000_000 + " s");
    }
  }
}
