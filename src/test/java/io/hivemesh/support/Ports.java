package io.hivemesh.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for nodes that are told their port before they bind it. Taken below the kernel's ephemeral
 * range: a port the kernel hands out (port 0) can be given to any outgoing connection of any process
 * in the seconds before the node binds it, and ten node JVMs starting at once make many. Below the
 * range only another explicit bind can take it, and this JVM never hands the same port out twice.
 */
public final class Ports {

  private static final int LOWEST = 20_000;
  private static final Set<Integer> GIVEN = new HashSet<>();

  private Ports() {
  }

  public static synchronized int free() {
    int ceiling = ephemeralStart();
    for (int tries = 0; tries < 1000; tries++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
      if (!GIVEN.contains(port) && bindable(port)) {
        GIVEN.add(port);
        return port;
      }
    }
    throw new IllegalStateException("no free port between " + LOWEST + " and " + ceiling);
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The first port of the kernel's ephemeral range (Linux: ip_local_port_range), 32768 if unknown. */
  private static int ephemeralStart() {
    try {
      int start = Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim()
          .split("\\s+")[0]);
      return start > LOWEST + 1000 ? start : 32_768;
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
