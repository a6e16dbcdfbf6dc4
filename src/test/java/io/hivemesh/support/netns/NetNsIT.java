package io.hivemesh.support.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The namespace tooling itself, on a real network: what the multi-host tests build on. */
class NetNsIT {

  private static final Path LOGS = Path.of("target", "netns-logs", "NetNsIT");
  private static final String PROMPT = "a prompt that crosses the bridge in the clear";

  @BeforeEach
  void needsNamespaces() {
    assumeTrue(NetNs.available(), "needs root, ip netns, tcpdump and curl");
  }

  @Test
  void aCaptureOnTheBridgeSeesPlainHttpBetweenHostsAndTheTlsAssertionRejectsIt() {
    try (NetNs net = NetNs.create(2)) {
      Capture capture = Capture.start(net, LOGS.resolve("http.pcap"));
      HiveProcess.start(net, 2, LOGS, "sim", "sim", "--host", net.address(2), "--port", "11435",
              "--models", "llama3.2", "--load-ms", "0", "--tokens-per-second", "0")
          .awaitListening(net.address(2), 11435, Duration.ofSeconds(60));
      Curl.Response r = Curl.post(net, 1, "http://" + net.address(2) + ":11435/api/generate",
          "{\"model\":\"llama3.2\",\"prompt\":\"" + PROMPT + "\",\"stream\":false}");
      assertEquals(200, r.status(), r.body());

      List<TcpConnection> connections = capture.connections();
      List<TcpConnection> toSim = connections.stream().filter(c -> c.server().port() == 11435).toList();
      assertEquals(1, toSim.size(), Traffic.summary(connections));
      TcpConnection c = toSim.get(0);
      assertEquals(net.address(1), c.client().address());
      assertEquals(net.address(2), c.server().address());
      assertTrue(c.startCaptured());
      assertEquals("POST /api/generate", new String(c.clientFirstBytes(18), StandardCharsets.US_ASCII));
      assertEquals("HTTP/1.1 200", new String(c.serverFirstBytes(12), StandardCharsets.US_ASCII));
      assertTrue(Traffic.containsAscii(c.clientPayload(), PROMPT));
      assertTrue(Traffic.containsAscii(c.serverPayload(), "\"done\":true"));

      AssertionError plaintext = assertThrows(AssertionError.class,
          () -> Traffic.assertNoPlaintextBetweenHosts(connections, PROMPT));
      assertTrue(plaintext.getMessage().contains(c + ": the client does not open with a TLS handshake"), plaintext.getMessage());
      assertTrue(plaintext.getMessage().contains(c + ": carries plaintext '" + PROMPT + "'"), plaintext.getMessage());
    }
  }

  @Test
  void aPulledCableSilencesAHostUntilItIsPluggedBackIn() {
    try (NetNs net = NetNs.create(2)) {
      String url = "http://" + net.address(2) + ":11435/api/version";
      HiveProcess.start(net, 2, LOGS, "partitioned-sim", "sim", "--host", net.address(2), "--port", "11435",
              "--models", "llama3.2")
          .awaitListening(net.address(2), 11435, Duration.ofSeconds(60));
      assertEquals(200, Curl.get(net, 1, url).status());

      net.linkDown(2);
      NetNs.Result cut = net.run(1, Duration.ofSeconds(20), "curl", "-sS", "-m", "3", url);
      assertNotEquals(0, cut.exitCode(), cut.output());
      // The host itself notices nothing but silence: its address stays, its own port still answers.
      assertEquals(0, net.run(2, Duration.ofSeconds(10), "bash", "-c", "</dev/tcp/" + net.address(2) + "/11435").exitCode());

      net.linkUp(2);
      Await.until("host 1 reaches host 2 again", Duration.ofSeconds(20),
          () -> net.run(1, Duration.ofSeconds(10), "curl", "-sS", "-m", "2", url).exitCode() == 0, () -> "");
    }
  }

  @Test
  void aNetworkLeftByADeadRunIsRemovedBeforeTheNextOneIsBuilt() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    String stale = "hive-it-" + gone.pid() + "-1-h1";
    NetNs.runCommand(List.of("ip", "netns", "add", stale), Duration.ofSeconds(10));
    Process orphan = new ProcessBuilder("ip", "netns", "exec", stale, "sleep", "600").start();
    Await.until("a process runs inside " + stale, Duration.ofSeconds(10), () -> !NetNs.runCommand(
        List.of("ip", "netns", "pids", stale), Duration.ofSeconds(10)).output().isBlank(), () -> "");

    try (NetNs net = NetNs.create(1)) {
      assertFalse(namespaces().contains(stale), namespaces());
      assertTrue(orphan.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "the process left inside is gone");
      assertTrue(namespaces().contains(net.namespace(1)), namespaces());
    }
    assertFalse(namespaces().contains("hive-it-" + ProcessHandle.current().pid() + "-"), namespaces());
  }

  private static String namespaces() {
    return NetNs.runCommand(List.of("ip", "netns", "list"), Duration.ofSeconds(10)).output();
  }
}
