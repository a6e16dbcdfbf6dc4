package io.hivemesh.support.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar target/hive.jar COMMAND ARGS} in one host of a {@link NetNs}: a real node or sim
 * in a JVM of its own, logging to {@code LOGDIR/NAME.log}.
 */
public final class HiveProcess {

  /** The shaded jar {@code mvn package} builds; integration tests run after it. */
  public static final Path JAR = Path.of("target", "hive.jar").toAbsolutePath();

  /**
   * Seven JVMs share two cores in these tests: one GC thread, C1 only, small stacks and heaps,
   * no perf-data files. The jar's manifest already opens what Hazelcast needs.
   */
  static final List<String> JVM_FLAGS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
      "-Xmx256m", "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true");

  private static final int LOG_TAIL_LINES = 40;

  private final NetNs net;
  private final int host;
  private final String name;
  private final Path log;
  private final Process process;

  private HiveProcess(NetNs net, int host, String name, Path log, Process process) {
    this.net = net;
    this.host = host;
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code hive COMMAND ARGS} in host {@code host}; returns at once, see {@link #awaitListening}. */
  public static HiveProcess start(NetNs net, int host, Path logDir, String name, String command, String... args) {
    if (!Files.isRegularFile(JAR)) {
      throw new AssertionError(JAR + " is missing: integration tests run after 'mvn package' builds it");
    }
    List<String> cmd = new ArrayList<>(List.of("java"));
    cmd.addAll(JVM_FLAGS);
    cmd.addAll(List.of("-jar", JAR.toString(), command));
    cmd.addAll(List.of(args));
    Path log = logDir.resolve(name + ".log");
    return new HiveProcess(net, host, name, log, net.exec(host, cmd, log));
  }

  /** Waits until a TCP connect to {@code address:port} succeeds from inside this process's host. */
  public HiveProcess awaitListening(String address, int port, Duration timeout) {
    Await.until(name + " listens on " + address + ":" + port, timeout, () -> {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + "\n" + logTail());
      }
      return net.run(host, Duration.ofSeconds(5), "bash", "-c", "</dev/tcp/" + address + "/" + port).exitCode() == 0;
    }, this::logTail);
    return this;
  }

  /** SIGKILL: a crash, nothing said to anyone. */
  public void kill() {
    process.destroyForcibly();
    awaitExit();
  }

  /** SIGSTOP: the process freezes (as under heavy CPU starvation or a long GC pause); its sockets stay open. */
  public void freeze() {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze}. */
  public void thaw() {
    signal("CONT");
  }

  private void signal(String name) {
    NetNs.Result r = NetNs.runCommand(List.of("kill", "-" + name, String.valueOf(process.pid())), Duration.ofSeconds(10));
    if (r.exitCode() != 0) {
      throw new AssertionError("kill -" + name + " " + this + " failed: " + r.output());
    }
  }

  /** SIGTERM: a node leaves the mesh cleanly on it. */
  public void stop() {
    process.destroy();
    awaitExit();
  }

  /** Whether the log so far has a line containing {@code text}. */
  public boolean logContains(String text) {
    try {
      return Files.exists(log) && new String(Files.readAllBytes(log), StandardCharsets.UTF_8).contains(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of the log, for failure messages. */
  public String logTail() {
    try {
      List<String> lines = Files.exists(log)
          ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList() : List.of();
      return "--- last lines of " + log + " ---\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitExit() {
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError(name + " is still running 30 s after being told to stop\n" + logTail());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public String toString() {
    return name + " in host " + host;
  }
}
