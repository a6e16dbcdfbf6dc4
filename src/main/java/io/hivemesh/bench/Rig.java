package io.hivemesh.bench;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Everything one benchmark run starts, and stops again: the sims (in this JVM, on a Vert.x of their
 * own), mesh nodes (a JVM each, from this same jar), nginx and HAProxy (Debian's binaries, with
 * configs written to a temporary directory). All on loopback, on free ports.
 */
public final class Rig implements AutoCloseable {

  /** JVM flags of every node the benchmarks start; {@code docs/benchmarks.md} explains them. */
  public static final List<String> NODE_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms48m",
      "-Xmn32m", "-Xmx256m", "-XX:ReservedCodeCacheSize=64m", "-XX:MaxMetaspaceSize=128m", "-XX:MaxDirectMemorySize=128m");

  /** What Hazelcast needs opened on Java 17 (the jar's manifest grants it only under -jar). */
  private static final List<String> OPENS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  final Path dir;
  final Vertx simVertx;
  final Vertx loadVertx;
  private final String clusterName = "bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100_000;
  private final List<OllamaSim> sims = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final java.io.PrintStream log;

  public Rig(java.io.PrintStream log) {
    this.log = log;
    try {
      this.dir = Files.createTempDirectory("hive-bench");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // One event loop each: the sims and the load generator should not borrow each other's thread.
    this.simVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    this.loadVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  }

  public OllamaSim sim(SimOptions options) {
    OllamaSim sim = await(OllamaSim.start(simVertx, options.withHost("127.0.0.1").withPort(0)), "sim " + options.name());
    sims.add(sim);
    return sim;
  }

  /** A mesh node process; {@code join} is the Hazelcast port of a running node, or 0 for the first. */
  public Node node(String name, OllamaSim sim, int join, String strategy, List<String> jvmFlags) {
    int port = freePort();
    int clusterPort = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    // For profiling, e.g. -XX:StartFlightRecording=filename=/tmp/%n.jfr, where %n becomes the node's name.
    String extra = System.getenv("HIVE_BENCH_NODE_FLAGS");
    if (extra != null && !extra.isBlank()) {
      for (String flag : extra.trim().split("\\s+")) {
        cmd.add(flag.replace("%n", name));
      }
    }
    cmd.addAll(OPENS);
    cmd.addAll(List.of("-Djava.net.preferIPv4Stack=true", "-Dhazelcast.phone.home.enabled=false",
        "-cp", System.getProperty("java.class.path"), "io.hivemesh.cli.Main", "node",
        "--name", name, "--port", String.valueOf(port), "--ollama", sim.url(),
        "--cluster-name", clusterName, "--cluster-port", String.valueOf(clusterPort), "--bus-port", "0",
        "--parallel", String.valueOf(sim.options().parallel()),
        "--max-loaded-models", String.valueOf(sim.options().maxLoaded()), "--strategy", strategy,
        "--insecure-no-auth", "--max-inflight", "4096", "--event-loops", "1",
        // As nginx and HAProxy here, which write none either.
        "--access-log", "false"));
    if (join > 0) {
      cmd.addAll(List.of("--join", "127.0.0.1:" + join));
    }
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve("node-" + name + ".log").toFile()).start();
      processes.add(p);
      return new Node(name, port, clusterPort, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A node's ports and process. */
  public record Node(String name, int port, int clusterPort, Process process) {
    public String target() {
      return "127.0.0.1:" + port;
    }

    /** Resident memory in MiB, from /proc. */
    public double rssMiB() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
          if (line.startsWith("VmRSS:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
          }
        }
      } catch (IOException e) {
        return Double.NaN;
      }
      return Double.NaN;
    }
  }

  /** The last {@code lines} lines of a log, for an error message (the run's folder may be deleted after). */
  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Waits until {@code node} lists every one of {@code models} in its /api/tags. */
  public void awaitModels(Node node, List<String> models, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!node.process().isAlive()) {
        Path log = dir.resolve("node-" + node.name() + ".log");
        throw new IllegalStateException("node " + node.name() + " exited with " + node.process().exitValue()
            + "; the end of " + log + ":\n" + tail(log, 20));
      }
      try {
        last = get("http://" + node.target() + "/api/tags");
        String tags = last;
        if (models.stream().allMatch(m -> tags.contains("\"" + m + "\"") || tags.contains("\"" + m + ":latest\""))) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      pause(200);
    }
    throw new IllegalStateException("node " + node.name() + " never listed " + models + "; last: " + last);
  }

  /** nginx with one worker, round-robin over {@code sims}, streaming done right. */
  public int nginx(List<OllamaSim> upstreams) {
    int port = freePort();
    StringBuilder servers = new StringBuilder();
    for (OllamaSim s : upstreams) {
      servers.append("    server 127.0.0.1:").append(s.port()).append(";\n");
    }
    Path conf = dir.resolve("nginx.conf");
    write(conf, """
        worker_processes 1;
        user root;
        pid %1$s/nginx.pid;
        error_log %1$s/nginx-error.log warn;
        events { worker_connections 8192; }
        http {
          access_log off;
          client_body_temp_path %1$s/nginx-body;
          proxy_temp_path %1$s/nginx-proxy;
          client_max_body_size 64m;
          upstream sims {
        %2$s    keepalive 256;
          }
          server {
            listen 127.0.0.1:%3$d;
            keepalive_requests 1000000;
            location / {
              proxy_pass http://sims;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Host $http_host;
              proxy_buffering off;
              proxy_request_buffering off;
              proxy_read_timeout 600s;
            }
          }
        }
        """.formatted(dir, servers, port));
    start("nginx", List.of("/usr/sbin/nginx", "-p", dir.toString(), "-c", conf.toString(), "-g", "daemon off;"));
    awaitPort("nginx", port);
    return port;
  }

  /** {@link BareRelay} in a JVM of its own, with the nodes' flags, in front of {@code sim}. */
  public int bareRelay(OllamaSim sim) {
    int port = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(NODE_JVM_FLAGS);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BareRelay.class.getName(),
        String.valueOf(port), "127.0.0.1:" + sim.port()));
    start("bare-relay", cmd);
    awaitPort("bare-relay", port);
    return port;
  }

  /** HAProxy with one thread, least connections over {@code sims}. */
  public int haproxy(List<OllamaSim> upstreams) {
    int port = freePort();
    StringBuilder servers = new StringBuilder();
    int i = 0;
    for (OllamaSim s : upstreams) {
      servers.append("  server s").append(i++).append(" 127.0.0.1:").append(s.port()).append("\n");
    }
    Path conf = dir.resolve("haproxy.cfg");
    write(conf, """
        global
          nbthread 1
          maxconn 8000
        defaults
          mode http
          timeout connect 2s
          timeout client 600s
          timeout server 600s
          option http-keep-alive
          http-reuse always
        frontend bench
          bind 127.0.0.1:%d
          default_backend sims
        backend sims
          balance leastconn
        %s""".formatted(port, servers));
    start("haproxy", List.of("/usr/sbin/haproxy", "-db", "-f", conf.toString()));
    awaitPort("haproxy", port);
    return port;
  }

  /** Unloads every model of {@code sim} but {@code loaded}, and loads those at once: the same start for each contender. */
  public void resetSim(OllamaSim sim, List<String> loaded) {
    await(sim.reset(loaded), "resetting sim " + sim.options().name());
  }

  String get(String url) throws IOException {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  public void stopNode(Node node) {
    node.process().destroy();
    try {
      if (!node.process().waitFor(20, TimeUnit.SECONDS)) {
        node.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    processes.remove(node.process());
  }

  private void start(String name, List<String> cmd) {
    try {
      processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve(name + ".log").toFile()).start());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + name + " (" + cmd.get(0) + "): " + e.getMessage(), e);
    }
  }

  private void awaitPort(String name, int port) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        pause(50);
      }
    }
    String tail;
    try {
      List<String> lines = Files.readAllLines(dir.resolve(name + ".log"));
      tail = lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
    } catch (IOException e) {
      tail = e.getMessage();
    }
    throw new IllegalStateException(name + " does not listen on port " + port + ": " + tail);
  }

  /**
   * A port no process listens on, for a node, nginx or HAProxy to bind a few seconds later. Taken
   * below the kernel's ephemeral range: a port from that range can be handed meanwhile to one of
   * the outgoing connections the starting nodes open to each other, and the node that was to
   * listen on it then fails with "Address already in use". Never the same port twice in one run.
   */
  static synchronized int freePort() {
    for (int tries = 0; tries < 1000; tries++) {
      int port = FIRST_PORT + RANDOM.nextInt(EPHEMERAL_START - FIRST_PORT);
      if (!handedOut.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port)) {
        return s.getLocalPort();
      } catch (IOException e) {
        // Taken: try another.
      }
    }
    throw new IllegalStateException("no free port between " + FIRST_PORT + " and " + EPHEMERAL_START);
  }

  /** Where the rig's ports start: clear of system services, Ollama's 11434 and the bench scripts' fixed ports (126xx, 127xx). */
  private static final int FIRST_PORT = 20_000;
  private static final int EPHEMERAL_START = ephemeralStart();
  private static final Random RANDOM = new Random();
  private static final Set<Integer> handedOut = new HashSet<>();

  /** The first port of Linux's ephemeral range; where it cannot be read, 32768, below every common system's range. */
  private static int ephemeralStart() {
    try {
      int first = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
      return first > FIRST_PORT + 1000 ? first : 32_768;
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits on the calling (never an event-loop) thread. */
  static <T> T await(Future<T> f, String what) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(what + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    await(simVertx.close(), "closing the sims");
    await(loadVertx.close(), "closing the load generator");
    if (System.getenv("HIVE_BENCH_KEEP") == null) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        log.println("could not remove " + dir + ": " + e.getMessage());
      }
    } else {
      log.println("logs kept in " + dir);
    }
  }
}
