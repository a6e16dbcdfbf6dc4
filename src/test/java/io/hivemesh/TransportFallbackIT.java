package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.Ports;
import io.hivemesh.support.proc.HiveJvm;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A host that refuses io_uring the way Docker's default seccomp profile does (its system calls
 * answer EPERM), with the shipped jar: {@code --transport auto} starts on epoll and serves, and
 * {@code --transport io_uring} stops with one line and exit status 2. The refusal is a seccomp
 * filter installed by {@code src/test/resources/seccomp/refuse-io-uring.py} before it runs the node.
 */
class TransportFallbackIT {

  private static final Path LOGS = Path.of("target", "it-logs", "TransportFallbackIT");
  private static final Path REFUSE_IO_URING = Path.of("src", "test", "resources", "seccomp", "refuse-io-uring.py");

  private static Vertx vertx;
  private static OllamaSim sim;

  @BeforeAll
  static void filterWorksHere() throws Exception {
    assumeTrue(filterInstalls(), "needs python3 and seccomp on x86-64 Linux");
    vertx = Vertx.vertx();
    sim = OllamaSim.start(vertx, SimOptions.defaults().withModels("llama3.2").withLoadMs(0).withTokensPerSecond(500)
            .withHost("127.0.0.1").withPort(0).withName("sim-fallback"))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  @Test
  void autoStartsOnEpollAndServesWhenTheHostRefusesIoUring() {
    int port = Ports.free();
    HiveJvm node = start("auto", port, "auto");
    try {
      node.awaitReady("serves the Ollama API", Duration.ofSeconds(90), () -> node.logContains("serving the Ollama API"));
      node.awaitReady("lists its site's model", Duration.ofSeconds(60),
          () -> Http.get(port, "/api/tags").body().contains("llama3.2:latest"));
      assertTrue(node.logContains("transport epoll)"), "the start line names epoll\n" + node.logTail());
      HttpResponse<String> r = Http.post(port, "/api/generate",
          "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":8}}");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(8, new JsonObject(r.body()).getInteger("eval_count"), r.body());
    } finally {
      node.stop();
    }
  }

  @Test
  void aNamedIoUringStopsTheStartWithOneLineWhenTheHostRefusesIt() throws Exception {
    HiveJvm node = start("io_uring", Ports.free(), "io_uring");
    node.awaitExit(Duration.ofSeconds(60));
    assertEquals(2, node.exitValue(), node.logTail());
    List<String> lines = Files.readAllLines(LOGS.resolve("io_uring.log"), StandardCharsets.UTF_8).stream()
        .filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "one line, no stack trace: " + lines);
    assertTrue(lines.get(0).startsWith("hive: --transport io_uring: not available on this host (")
        && lines.get(0).contains("Operation not permitted") && lines.get(0).endsWith("use --transport auto"), lines.get(0));
  }

  private static HiveJvm start(String name, int port, String transport) {
    List<String> cmd = new ArrayList<>(List.of("python3", REFUSE_IO_URING.toString()));
    cmd.addAll(HiveJvm.command(List.of(), "node", List.of("--name", name, "--host", "127.0.0.1",
        "--port", String.valueOf(port), "--ollama", sim.url(), "--cluster-host", "127.0.0.1",
        "--cluster-port", String.valueOf(Ports.free()), "--bus-port", "0", "--insecure-no-auth",
        "--transport", transport)));
    return HiveJvm.startLocal(name, LOGS.resolve(name + ".log"), cmd);
  }

  /** Whether the filter installs here: python3 present, seccomp on, x86-64 (the script exits 3 otherwise). */
  private static boolean filterInstalls() {
    try {
      Process p = new ProcessBuilder("python3", REFUSE_IO_URING.toString(), "true").redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
