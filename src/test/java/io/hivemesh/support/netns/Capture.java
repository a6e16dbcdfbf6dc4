package io.hivemesh.support.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * tcpdump on the switch's bridge: every TCP segment between the hosts of a {@link NetNs}, whole
 * ({@code -s 0}), handed over by the kernel at once ({@code --immediate-mode}: otherwise packets
 * wait in a kernel buffer that a stop discards) and written as they arrive ({@code -U}). Start it
 * before the processes whose connections matter, so their opening bytes are in the file.
 */
public final class Capture {

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);

  private final Process tcpdump;
  private final Path file;
  private final Path log;

  private Capture(Process tcpdump, Path file, Path log) {
    this.tcpdump = tcpdump;
    this.file = file;
    this.log = log;
  }

  /** Returns once tcpdump says it is listening; a packet sent after that is in {@code file}. */
  public static Capture start(NetNs net, Path file) {
    Path log = file.resolveSibling(file.getFileName() + ".log");
    // -Z root: tcpdump otherwise drops to its own user, which may not write into target/.
    Process p = net.execIn(net.switchNamespace(), List.of("tcpdump", "-i", net.bridge(), "-w", file.toString(),
        "-U", "--immediate-mode", "-s", "0", "-Z", "root", "tcp"), log);
    Capture capture = new Capture(p, file, log);
    capture.awaitListening();
    return capture;
  }

  /** Ends tcpdump with SIGTERM, which it answers by flushing the file; returns the file. */
  public Path stop() {
    tcpdump.destroy();
    try {
      if (!tcpdump.waitFor(10, TimeUnit.SECONDS)) {
        tcpdump.destroyForcibly();
        throw new AssertionError("tcpdump did not stop: " + logText());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return file;
  }

  /** Stops the capture and reads back its TCP connections. */
  public List<TcpConnection> connections() {
    return Pcap.connections(stop());
  }

  private void awaitListening() {
    Await.until("tcpdump captures", READY_TIMEOUT, () -> {
      if (!tcpdump.isAlive()) {
        throw new AssertionError("tcpdump exited: " + logText());
      }
      return logText().contains("listening on");
    }, this::logText);
  }

  private String logText() {
    try {
      return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
