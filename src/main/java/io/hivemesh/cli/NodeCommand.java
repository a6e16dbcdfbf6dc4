package io.hivemesh.cli;

import io.hivemesh.HiveNode;
import io.hivemesh.NodeConfig;
import io.hivemesh.config.Settings;
import io.hivemesh.observe.LogFormat;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code hive node}: one site's node, until SIGTERM or Ctrl-C, then a clean leave. */
final class NodeCommand {

  private NodeCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("node", NodeConfig.OPTIONS));
      return;
    }
    NodeConfig config = NodeConfig.parse(args, System.getenv());
    LogFormat.apply(config.logFormat(), config.accessLog());
    HiveNode node = await(HiveNode.start(config), "cannot start node '" + config.name() + "'");
    // Vert.x installs no shutdown hook and disables Hazelcast's: on SIGTERM, drain and leave ourselves.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CountDownLatch closed = new CountDownLatch(1);
      node.drain().onComplete(ar -> closed.countDown());
      try {
        closed.await(config.drainTimeout().toSeconds() + 30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "hive-shutdown"));
    // A drain asked for over HTTP ends the process once the node has left.
    node.drained().onComplete(ar -> new Thread(() -> System.exit(0), "hive-exit").start());
  }

  /** Waits on the main thread (never an event loop) for a startup step; fails with one line. */
  static <T> T await(io.vertx.core.Future<T> future, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Main.StartupException(what + ": interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof io.hivemesh.config.ConfigException ce) {
        throw ce;
      }
      throw new Main.StartupException(what + ": " + Main.reason(e));
    } catch (java.util.concurrent.TimeoutException e) {
      throw new Main.StartupException(what + ": still not up after 120 s");
    }
  }
}
