package io.hivemesh.cli;

import io.hivemesh.config.Settings;
import io.hivemesh.edge.EdgeAgent;
import io.hivemesh.edge.EdgeConfig;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code hive edge}: a site that only dials out, until SIGTERM or Ctrl-C. */
final class EdgeCommand {

  private EdgeCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("edge", EdgeConfig.OPTIONS));
      return;
    }
    EdgeConfig config = EdgeConfig.parse(args, System.getenv());
    EdgeAgent edge = NodeCommand.await(EdgeAgent.start(config), "cannot start edge '" + config.site().name() + "'");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CountDownLatch closed = new CountDownLatch(1);
      edge.close().onComplete(ar -> closed.countDown());
      try {
        closed.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "hive-edge-shutdown"));
  }
}
