package io.hivemesh.support.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private network of Linux network namespaces: one "switch" namespace holding a bridge, and N
 * hosts, each with {@code lo} up and a veth link to the bridge at 10.250.X.i/24. Nothing is ever
 * added to the root namespace, so the test JVM has no route in and no traffic leaks out.
 *
 * <p>Names carry the test JVM's pid ({@code hive-it-PID-N-...}): a run only ever removes its own
 * namespaces, or those of a JVM that is gone (a run killed midway).
 */
public final class NetNs implements AutoCloseable {

  public record Result(int exitCode, String output) {
  }

  private static final String PREFIX = "hive-it-";
  private static final Pattern OURS = Pattern.compile("hive-it-(\\d+)-.*");
  private static final String BRIDGE = "br0";
  private static final String HOST_LINK = "eth0";
  private static final Duration IP_TIMEOUT = Duration.ofSeconds(10);
  private static final long PID = ProcessHandle.current().pid();
  private static final AtomicInteger NETWORKS = new AtomicInteger();
  private static final Set<NetNs> OPEN = ConcurrentHashMap.newKeySet();
  private static Boolean available;

  static {
    // A run stopped with Ctrl-C or SIGTERM still tears its network down; SIGKILL is left to the next run.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(NetNs::close), "netns-cleanup"));
  }

  private final String name;
  private final int subnet;
  private final int hosts;
  private final List<Process> started = new ArrayList<>();

  private NetNs(String name, int subnet, int hosts) {
    this.name = name;
    this.subnet = subnet;
    this.hosts = hosts;
  }

  /**
   * True when this machine can run namespace tests: root, {@code ip netns} works, tcpdump and curl
   * are on the PATH. Under {@code CI=true} a missing piece is an error, never a silent skip.
   */
  public static synchronized boolean available() {
    if (available == null) {
      String missing = missingPrerequisite();
      if (missing != null && "true".equals(System.getenv("CI"))) {
        throw new IllegalStateException("CI=true, yet network namespace tests cannot run: " + missing);
      }
      available = missing == null;
    }
    return available;
  }

  /** Builds a network of {@code hosts} hosts, numbered from 1, after removing what dead runs left. */
  public static synchronized NetNs create(int hosts) {
    removeStale();
    int n = NETWORKS.incrementAndGet();
    // X only has to differ between runs for readable captures; the namespaces isolate them anyway.
    NetNs net = new NetNs(PREFIX + PID + "-" + n, (int) ((PID + n) % 250) + 1, hosts);
    OPEN.add(net);
    try {
      net.build();
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
    return net;
  }

  private void build() {
    ip("netns", "add", switchNamespace());
    ip("-n", switchNamespace(), "link", "add", BRIDGE, "type", "bridge");
    ip("-n", switchNamespace(), "link", "set", BRIDGE, "up");
    for (int i = 1; i <= hosts; i++) {
      String host = namespace(i);
      ip("netns", "add", host);
      ip("-n", host, "link", "set", "lo", "up");
      ip("-n", host, "link", "add", HOST_LINK, "type", "veth", "peer", "name", port(i), "netns", switchNamespace());
      ip("-n", host, "addr", "add", address(i) + "/24", "dev", HOST_LINK);
      ip("-n", host, "link", "set", HOST_LINK, "up");
      ip("-n", switchNamespace(), "link", "set", port(i), "master", BRIDGE);
      ip("-n", switchNamespace(), "link", "set", port(i), "up");
    }
  }

  public String address(int host) {
    checkHost(host);
    return "10.250." + subnet + "." + host;
  }

  public String namespace(int host) {
    checkHost(host);
    return name + "-h" + host;
  }

  public String switchNamespace() {
    return name + "-sw";
  }

  /** The bridge in the switch namespace: every frame between hosts crosses it. */
  public String bridge() {
    return BRIDGE;
  }

  /** Starts {@code cmd} inside host {@code host}; stdout and stderr go to {@code log}. Killed by {@link #close()}. */
  public Process exec(int host, List<String> cmd, Path log) {
    return execIn(namespace(host), cmd, log);
  }

  /** As {@link #exec}, in any namespace of this network (the switch, for a capture). */
  public synchronized Process execIn(String namespace, List<String> cmd, Path log) {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    command.addAll(cmd);
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      // A developer's own HIVE_* settings must not reconfigure the nodes under test.
      builder.environment().keySet().removeIf(k -> k.startsWith("HIVE_"));
      Process p = builder.start();
      started.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** Runs {@code cmd} inside host {@code host} to its end; its stdout and stderr together. */
  public Result run(int host, Duration timeout, String... cmd) {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace(host)));
    command.addAll(List.of(cmd));
    return runCommand(command, timeout);
  }

  /** Pulls host {@code host}'s cable at the switch: it keeps its address, its peers just go silent. */
  public void linkDown(int host) {
    ip("-n", switchNamespace(), "link", "set", port(host), "down");
  }

  public void linkUp(int host) {
    ip("-n", switchNamespace(), "link", "set", port(host), "up");
  }

  /** Kills every process inside the network (ours and any stray child), then deletes the namespaces. */
  @Override
  public synchronized void close() {
    OPEN.remove(this);
    started.forEach(Process::destroyForcibly);
    started.clear();
    List<String> namespaces = new ArrayList<>();
    for (int i = 1; i <= hosts; i++) {
      namespaces.add(namespace(i));
    }
    namespaces.add(switchNamespace());
    namespaces.forEach(NetNs::delete);
  }

  private static String port(int host) {
    return "p" + host;
  }

  private void checkHost(int host) {
    if (host < 1 || host > hosts) {
      throw new IllegalArgumentException("host " + host + " is not in 1.." + hosts);
    }
  }

  /**
   * Namespaces a run killed midway left behind: their JVM is gone, or it had this JVM's pid and
   * belongs to no network open here. A concurrent run's namespaces are left alone.
   */
  private static void removeStale() {
    for (String line : runCommand(List.of("ip", "netns", "list"), IP_TIMEOUT).output().split("\n")) {
      Matcher ours = OURS.matcher(line.split(" ")[0]);
      if (!ours.matches()) {
        continue;
      }
      String ns = ours.group();
      long owner = Long.parseLong(ours.group(1));
      boolean stale = owner == PID
          ? OPEN.stream().noneMatch(net -> ns.startsWith(net.name + "-"))
          : ProcessHandle.of(owner).isEmpty();
      if (stale) {
        delete(ns);
      }
    }
  }

  private static void delete(String namespace) {
    Result pids = runCommand(List.of("ip", "netns", "pids", namespace), IP_TIMEOUT);
    if (pids.exitCode() != 0) {
      return; // never created, or already gone
    }
    pids.output().lines().map(String::strip).filter(s -> !s.isEmpty()).map(Long::parseLong)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(p -> {
          p.destroyForcibly();
          p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        }));
    runCommand(List.of("ip", "netns", "del", namespace), IP_TIMEOUT);
  }

  private static String missingPrerequisite() {
    if (!"root".equals(ProcessHandle.current().info().user().orElse(""))) {
      return "not running as root";
    }
    for (String tool : List.of("ip", "tcpdump", "curl")) {
      if (!onPath(tool)) {
        return tool + " is not on the PATH";
      }
    }
    String probe = PREFIX + PID + "-probe";
    Result added = runCommand(List.of("ip", "netns", "add", probe), IP_TIMEOUT);
    if (added.exitCode() != 0) {
      return "ip netns add fails: " + added.output().strip();
    }
    Result deleted = runCommand(List.of("ip", "netns", "del", probe), IP_TIMEOUT);
    return deleted.exitCode() == 0 ? null : "ip netns del fails: " + deleted.output().strip();
  }

  /** Whether {@code tool} is an executable on the PATH (for a test's own extra prerequisites). */
  public static boolean onPath(String tool) {
    return List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
  }

  private static void ip(String... args) {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Result r = runCommand(command, IP_TIMEOUT);
    if (r.exitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (" + r.exitCode() + "): " + r.output().strip());
    }
  }

  static Result runCommand(List<String> command, Duration timeout) {
    Path out = null;
    try {
      // Output to a file, not a pipe: a command that never ends must not block the read.
      out = Files.createTempFile("netns-run", ".out");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " still running after " + timeout + ": " + text(out));
      }
      return new Result(p.exitValue(), text(out));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted: " + command, e);
    } finally {
      if (out != null) {
        out.toFile().delete();
      }
    }
  }

  private static String text(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
  }
}
