package io.hivemesh;

import io.hivemesh.config.ConfigException;
import io.vertx.core.transport.Transport;
import java.util.List;
import java.util.function.Function;

/**
 * The socket I/O a node's event loops use ({@code --transport}). io_uring hands the kernel a loop
 * turn's reads and writes in one system call, where epoll makes one call per socket operation: on
 * a relay of small requests that is about 15 % less CPU per request (docs/benchmark-rounds.md, ninth
 * round). Kernels and sandboxes that forbid it (io_uring_disabled, a container's seccomp profile)
 * make {@code auto} take epoll, then Java's NIO.
 */
public final class NetworkTransport {

  public static final String AUTO = "auto";
  public static final List<String> NAMES = List.of(AUTO, "io_uring", "epoll", "nio");

  private NetworkTransport() {
  }

  /** The transport a name asks for; one that names a transport this host cannot run fails with one line. */
  public static Transport choose(String name) {
    return choose(name, t -> t.available() ? null
        : t.unavailabilityCause() != null ? t.unavailabilityCause() : new IllegalStateException("no native library for it"));
  }

  /** As {@link #choose(String)}, with why each transport cannot run here (null: it can). */
  static Transport choose(String name, Function<Transport, Throwable> whyUnavailable) {
    if (AUTO.equals(name)) {
      for (Transport t : List.of(Transport.IO_URING, Transport.EPOLL)) {
        if (whyUnavailable.apply(t) == null) {
          return t;
        }
      }
      return Transport.NIO;
    }
    Transport wanted = switch (name) {
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      case "nio" -> Transport.NIO;
      default -> throw new ConfigException("--transport: expected one of " + String.join(", ", NAMES) + ", got '"
          + name + "'");
    };
    Throwable why = whyUnavailable.apply(wanted);
    if (why != null) {
      throw new ConfigException("--transport " + name + ": not available on this host (" + why.getMessage()
          + "); use --transport auto");
    }
    return wanted;
  }

  /** The name {@code --transport} gives a transport. */
  public static String nameOf(Transport transport) {
    return transport == Transport.IO_URING ? "io_uring" : transport == Transport.EPOLL ? "epoll" : "nio";
  }
}
