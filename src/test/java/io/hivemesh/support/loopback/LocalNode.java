package io.hivemesh.support.loopback;

import io.hivemesh.support.proc.HiveJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One Hive node as its own JVM on 127.0.0.1, with ports of its own that it keeps across restarts
 * (a restarted site comes back at the same address, as it would on its own machine).
 */
public final class LocalNode {

  private final String name;
  private final String ollamaUrl;
  private final int httpPort;
  private final int clusterPort;
  private final int busPort;
  private final Path logDir;
  private final List<String> jvmFlags;
  private final List<String> extraArgs;
  private HiveJvm jvm;
  private int starts;

  LocalNode(String name, String ollamaUrl, Path logDir, List<String> jvmFlags, List<String> extraArgs) {
    this.name = name;
    this.ollamaUrl = ollamaUrl;
    this.logDir = logDir;
    this.jvmFlags = List.copyOf(jvmFlags);
    this.extraArgs = List.copyOf(extraArgs);
    this.httpPort = freePort();
    this.clusterPort = freePort();
    this.busPort = freePort();
  }

  static int freePort() {
    return io.hivemesh.support.Ports.free();
  }

  /** Starts the JVM, joining through {@code seeds} (Hazelcast addresses of other nodes); returns at once. */
  synchronized void start(List<String> seeds) {
    if (jvm != null && jvm.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    List<String> args = new ArrayList<>(List.of("--name", name, "--host", "127.0.0.1", "--port", String.valueOf(httpPort),
        "--ollama", ollamaUrl, "--cluster-host", "127.0.0.1", "--cluster-port", String.valueOf(clusterPort),
        "--bus-port", String.valueOf(busPort), "--join", String.join(",", seeds), "--insecure-no-auth"));
    args.addAll(extraArgs);
    starts++;
    Path log = logDir.resolve(name + (starts == 1 ? "" : "-" + starts) + ".log");
    jvm = HiveJvm.startLocal(name, log, HiveJvm.command(jvmFlags, "node", args));
  }

  public String name() {
    return name;
  }

  public int httpPort() {
    return httpPort;
  }

  /** {@code 127.0.0.1:PORT} of its Hazelcast member: what others join through. */
  public String clusterAddress() {
    return "127.0.0.1:" + clusterPort;
  }

  public synchronized boolean isAlive() {
    return jvm != null && jvm.isAlive();
  }

  /** SIGKILL; returns once the process is gone. */
  public void kill() {
    current().kill();
  }

  /** SIGTERM without waiting: the node drains, then leaves. */
  public void terminate() {
    current().terminate();
  }

  public void awaitExit(Duration timeout) {
    current().awaitExit(timeout);
  }

  void awaitReady(String what, Duration timeout, BooleanSupplier ready) {
    current().awaitReady(what, timeout, ready);
  }

  public String logTail() {
    return jvm == null ? "(never started)" : jvm.logTail();
  }

  private synchronized HiveJvm current() {
    if (jvm == null) {
      throw new IllegalStateException(name + " was never started");
    }
    return jvm;
  }

  @Override
  public String toString() {
    return name + " (http " + httpPort + ", cluster " + clusterPort + ")";
  }
}
