package io.hivemesh.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The ports the rig gives its servers. */
class RigTest {

  @Test
  void portsAreDistinctFreeAndBelowTheEphemeralRange() throws IOException {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    int ephemeralStart = Files.isReadable(range)
        ? Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]) : 32_768;
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      int port = Rig.freePort();
      assertTrue(ports.add(port), "port " + port + " handed out twice");
      assertTrue(port >= 20_000 && port < ephemeralStart, "port " + port + " is not below " + ephemeralStart);
      try (ServerSocket s = new ServerSocket(port)) {
        assertTrue(s.isBound());
      }
    }
  }
}
