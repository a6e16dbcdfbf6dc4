package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.SlowClients;
import io.hivemesh.support.TestMesh;
import io.hivemesh.support.proc.HiveJvm;
import io.hivemesh.support.netns.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * 10,000 idle and slow connections against a node in a JVM of its own (the node and the
 * attacker each need 10,000 descriptors; one process may hold 20,000). While they are held, a
 * normal client's streamed requests are all answered; the node's memory stays bounded; once the
 * attackers stop writing, the node closes every one of them by its deadlines.
 */
class SlowlorisIT {

  private static final int ATTACKERS = 10_000;
  private static final int HEADER_TIMEOUT_S = 20;
  private static final int BODY_TIMEOUT_S = 20;
  private static final Path LOGS = Path.of("target", "slowloris-logs");
  private static final HttpClient CLIENT = client();

  @Test
  void tenThousandSlowConnectionsDoNotStarveNormalClients() throws Exception {
    assumeTrue(openFileLimit() >= ATTACKERS + 2000 || "true".equals(System.getenv("CI")),
        "needs ulimit -n of at least " + (ATTACKERS + 2000));
    Vertx simVertx = Vertx.vertx();
    HiveJvm node = null;
    try {
      OllamaSim sim = TestMesh.await(OllamaSim.start(simVertx, SimOptions.defaults().withName("sim").withPort(0)
          .withLoadMs(0).withTokensPerSecond(0).withParallel(4).withModels("llama3.2")));
      int port = TestMesh.freePort();
      node = startNode(port, sim.url());
      node.awaitReady("lists its site's model", Duration.ofSeconds(60), () -> tags(port).contains("llama3.2"));
      long pid = node.pid();

      Latencies quiet = streamRequests(port, 50);
      long rssQuiet = rssKb(pid);

      try (SlowClients attack = new SlowClients(new InetSocketAddress("127.0.0.1", port),
          new InetSocketAddress("127.0.0.2", 0), 2000)) {
        attack.open(ATTACKERS);
        Await.until("10,000 attacking connections are established", Duration.ofSeconds(60),
            () -> attack.connected() + attack.failedToConnect() >= ATTACKERS, () -> "connected " + attack.connected()
                + ", failed " + attack.failedToConnect());
        assertEquals(0, attack.failedToConnect(), "attacking connections refused");
        // Connected is not yet accepted: the node takes them from its backlog as fast as it can.
        Await.until("the node accepted the 10,000 connections", Duration.ofSeconds(60),
            () -> openFdsOrZero(pid) >= ATTACKERS, () -> "node descriptors: " + openFdsOrZero(pid));
        long fdsUnderAttack = openFds(pid);
        int heldBefore = attack.held();

        Latencies underAttack = streamRequests(port, 50);
        int heldAfter = attack.held();
        long rssUnderAttack = rssKb(pid);
        long fdsAfterRequests = openFds(pid);

        System.out.printf("slowloris: %d connections held at the start of the normal requests, %d at their end"
                + " (node holds %d descriptors, %d after)%n", heldBefore, heldAfter, fdsUnderAttack, fdsAfterRequests);
        System.out.printf("slowloris: 50 streamed requests, quiet: p50 %.1f ms, max %.1f ms; under attack: p50 %.1f ms,"
            + " max %.1f ms%n", quiet.p50(), quiet.max(), underAttack.p50(), underAttack.max());
        System.out.printf("slowloris: node RSS quiet %d MB, under attack %d MB%n", rssQuiet / 1024,
            rssUnderAttack / 1024);

        // Generous: a node that buffered what 10,000 clients send, or leaked per connection, would go far beyond.
        assertTrue(rssUnderAttack < 1024 * 1024, "node RSS under attack " + rssUnderAttack / 1024 + " MB");

        // The attackers go quiet; the node closes every connection by its deadlines, answering slow bodies 408.
        attack.stopTrickling();
        Await.until("the node closed every attacking connection", Duration.ofSeconds(HEADER_TIMEOUT_S + 40),
            () -> attack.held() == 0, () -> "still held: " + attack.held());
        // Every stalled upload is closed by its deadline (above). Not every 408 reaches its client: between
        // half and all of them arrived in runs here, and the lost ones were not explained (a reset on close
        // is the suspect). SlowClientTest asserts the 408 itself on a single stalled upload.
        assertTrue(attack.answered408() > 0, "no 408 answer reached a slow upload");
        attack.close();
        List<Double> idle = attack.closeDelaysSeconds(SlowClients.Kind.IDLE);
        double earliest = Collections.min(idle);
        System.out.printf("slowloris: idle connections closed %.1f to %.1f s after connecting; 408 answers %d%n",
            earliest, Collections.max(idle), attack.answered408());
        assertTrue(earliest >= HEADER_TIMEOUT_S - 1, "an idle connection was closed after " + earliest + " s");
      }
      long rssAfter = rssKb(pid);
      System.out.printf("slowloris: node RSS after the attack %d MB%n", rssAfter / 1024);
      assertTrue(tags(port).contains("llama3.2"), "the node still answers");
    } finally {
      if (node != null) {
        node.stop();
      }
      TestMesh.await(simVertx.close());
    }
  }

  private static HiveJvm startNode(int port, String ollama) {
    List<String> args = List.of("--name", "slowloris", "--host", "127.0.0.1", "--port", String.valueOf(port),
        "--ollama", ollama,
        "--cluster-name", "hive-slowloris-" + UUID.randomUUID(), "--cluster-host", "127.0.0.1",
        "--cluster-port", String.valueOf(TestMesh.freePort()), "--bus-port", "0", "--event-loops", "2",
        "--insecure-no-auth", "--max-connections", "12000", "--max-requests", "100",
        "--header-timeout", HEADER_TIMEOUT_S + "s", "--body-timeout", BODY_TIMEOUT_S + "s", "--keep-alive-timeout", "5s");
    return HiveJvm.startLocal("slowloris", LOGS.resolve("node.log"), HiveJvm.command(List.of(), "node", args));
  }

  private static HttpClient client() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private static String tags(int port) {
    try {
      return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/tags"))
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private record Latencies(List<Double> millis) {
    double p50() {
      List<Double> sorted = new ArrayList<>(millis);
      Collections.sort(sorted);
      return sorted.get(sorted.size() / 2);
    }

    double max() {
      return Collections.max(millis);
    }
  }

  /** {@code n} streamed generate requests one after another, each read to its last line. */
  private static Latencies streamRequests(int port, int n) throws Exception {
    // A client of its own: a connection pooled earlier may have outlived the node's keep-alive timeout.
    HttpClient client = client();
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      HttpResponse<java.util.stream.Stream<String>> r = client.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/generate"))
              .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(
                  "{\"model\":\"llama3.2\",\"prompt\":\"hello\",\"options\":{\"num_predict\":10}}")).build(),
          HttpResponse.BodyHandlers.ofLines());
      assertEquals(200, r.statusCode());
      List<String> lines = r.body().toList();
      assertTrue(new JsonObject(lines.get(lines.size() - 1)).getBoolean("done"), "stream did not finish: " + lines);
      out.add((System.nanoTime() - start) / 1e6);
    }
    return new Latencies(out);
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new AssertionError("no VmRSS for " + pid);
  }

  private static long openFds(long pid) throws IOException {
    try (var fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
      return fds.count();
    }
  }

  private static long openFdsOrZero(long pid) {
    try {
      return openFds(pid);
    } catch (IOException e) {
      return 0;
    }
  }

  private static long openFileLimit() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
        ? unix.getMaxFileDescriptorCount() : 0;
  }
}
