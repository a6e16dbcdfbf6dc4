package io.hivemesh.support.proc;

import io.hivemesh.support.netns.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One {@code java -jar target/hive.jar COMMAND ARGS} process, a real node or sim in a JVM of its
 * own, logging to a file: how it is started (on this host or in a namespace) is the caller's
 * business; stopping, killing and reading its log are shared here.
 */
public final class HiveJvm {

  /** The shaded jar {@code mvn package} builds; integration tests run after it. */
  public static final Path JAR = Path.of("target", "hive.jar").toAbsolutePath();

  /**
   * Many JVMs share two cores in these tests: one GC thread, C1 only, small stacks and heaps, no
   * perf-data files. The jar's manifest already opens what Hazelcast needs.
   */
  public static final List<String> JVM_FLAGS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
      "-Xmx256m", "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true");

  private static final int LOG_TAIL_LINES = 40;

  private final String name;
  private final Path log;
  private final Process process;

  public HiveJvm(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /** The command line of {@code hive COMMAND ARGS} with {@link #JVM_FLAGS}, then {@code extraJvmFlags}. */
  public static List<String> command(List<String> extraJvmFlags, String command, List<String> args) {
    if (!Files.isRegularFile(JAR)) {
      throw new AssertionError(JAR + " is missing: integration tests run after 'mvn package' builds it");
    }
    List<String> cmd = new ArrayList<>(List.of("java"));
    cmd.addAll(JVM_FLAGS);
    // Later flags win: a caller's -Xmx overrides the default one.
    cmd.addAll(extraJvmFlags);
    cmd.addAll(List.of("-jar", JAR.toString(), command));
    cmd.addAll(args);
    return cmd;
  }

  /** Starts {@code cmd} on this host; stdout and stderr go to {@code log}, which is replaced. */
  public static HiveJvm startLocal(String name, Path log, List<String> cmd) {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      // A developer's own HIVE_* settings must not reconfigure the nodes under test.
      builder.environment().keySet().removeIf(k -> k.startsWith("HIVE_"));
      return new HiveJvm(name, log, builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + cmd, e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  /** The exit status; only once the process has exited. */
  public int exitValue() {
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Waits until {@code ready} holds; fails at once, with the log's tail, if the process exits first. */
  public void awaitReady(String what, Duration timeout, BooleanSupplier ready) {
    Await.until(name + " " + what, timeout, () -> {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + "\n" + logTail());
      }
      return ready.getAsBoolean();
    }, this::logTail);
  }

  /** SIGKILL: a crash, nothing said to anyone. Returns once the process is gone. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** SIGTERM without waiting: the process leaves in its own time (a node drains first). */
  public void terminate() {
    process.destroy();
  }

  /** SIGTERM, then waits for the exit. */
  public void stop() {
    terminate();
    awaitExit(Duration.ofSeconds(30));
  }

  /** SIGSTOP: the process freezes (as under heavy CPU starvation or a long GC pause); its sockets stay open. */
  public void freeze() {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze}. */
  public void thaw() {
    signal("CONT");
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).redirectErrorStream(true).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill -" + signal + " " + name + " failed: "
            + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Whether the log so far has a line containing {@code text}. */
  public boolean logContains(String text) {
    try {
      return Files.exists(log) && new String(Files.readAllBytes(log), StandardCharsets.UTF_8).contains(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(name + " is still running " + timeout.toSeconds() + " s after being told to stop\n"
            + logTail());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
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

  @Override
  public String toString() {
    return name;
  }
}
