package io.hivemesh.bench;

import io.hivemesh.routing.Strategies;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * Meshes of growing size, one node and one sim per site, every site holding the same model:
 * throughput at saturation and p99 at half of it with clients spread over all nodes, and each
 * node's resident memory idle and under load. Sizes run one after another (a fresh mesh each);
 * a last run repeats the one-node case with the JVM's default flags, to show what the tuned flags
 * save.
 */
final class ScaleScenario {

  private static final SimOptions SITE = SimOptions.defaults().withModels("m").withTokensPerSecond(200)
      .withParallel(4).withLoadMs(0);
  private static final int ANSWER_TOKENS = 10;

  private ScaleScenario() {
  }

  /**
   * The JIT counts as settled once the nodes' compiler threads take less than this share of the
   * machine over a window of warm-up load: ten node JVMs on two cores still compile for minutes
   * after the first requests, and a measure taken then counts their compilers, not the mesh.
   */
  static final double JIT_SETTLED_SHARE = 0.05;
  private static final long SETTLE_WINDOW_MS = 5_000;
  /** The machine's cores count as the limit from this busy share at saturation on. */
  static final double CORES_BUSY_LIMIT = 0.9;

  /**
   * What one mesh size measured.
   *
   * @param warmupMs how long the warm-up load ran: {@code --warmup}, then more while the JIT had not settled
   * @param jitSettled whether the nodes' compilers took less than {@link #JIT_SETTLED_SHARE} in the warm-up's last window
   * @param cpuBusy the machine's busy share while saturated (NaN where {@code /proc} cannot be read)
   * @param jitShare the nodes' compiler threads' share of the machine while saturated (NaN if unknown)
   */
  private record Size(String label, int nodes, double siteCapacity, Recorder saturated, Recorder moderate,
      double idleRssMean, double idleRssMax, double loadRssMean, double loadRssMax, long warmupMs, boolean jitSettled,
      double cpuBusy, double jitShare) {
  }

  static Report run(BenchSettings s, PrintStream out) {
    Report report = new Report("scale", s.out(), s.command());
    Shot template = Traces.generate("m", ANSWER_TOKENS, true);
    double service = IdealScheduler.service(new IdealScheduler.Site("x", SITE.tokensPerSecond(), SITE.parallel(), 0, 1,
        List.of("m"), List.of("m")), template.work());
    double siteCapacity = SITE.parallel() / service;
    List<Size> sizes = new ArrayList<>();
    List<String> notFormed = new ArrayList<>();
    for (int n : s.nodes()) {
      measureOrNote(String.valueOf(n), n, Rig.NODE_JVM_FLAGS, s, template, siteCapacity, out, sizes, notFormed);
    }
    measureOrNote("1 (JVM defaults)", 1, List.of(), s, template, siteCapacity, out, sizes, notFormed);

    List<List<Object>> rows = new ArrayList<>();
    JsonArray json = new JsonArray();
    Map<String, Map<String, Double>> tputChart = new LinkedHashMap<>();
    Map<String, Map<String, Double>> rssChart = new LinkedHashMap<>();
    double best = sizes.stream().mapToDouble(z -> z.saturated().throughput()).max().orElse(1);
    for (Size z : sizes) {
      double ideal = z.nodes() * z.siteCapacity();
      rows.add(List.of(z.label(), z.saturated().throughput(), ideal, z.saturated().throughput() / ideal,
          z.saturated().throughput() / best, percent(z.cpuBusy()), percent(z.jitShare()),
          z.warmupMs() / 1000 + (z.jitSettled() ? "" : " (JIT not settled)"), z.moderate().totalMs(50),
          z.moderate().totalMs(99), z.saturated().failed() + z.moderate().failed(), z.idleRssMean(), z.idleRssMax(),
          z.loadRssMean(), z.loadRssMax()));
      json.add(new JsonObject().put("nodes", z.nodes()).put("label", z.label())
          .put("saturation", z.saturated().toJson()).put("moderate", z.moderate().toJson())
          .put("sitesCapacityPerSecond", Recorder.round(ideal))
          .put("warmupMs", z.warmupMs()).put("jitSettled", z.jitSettled())
          .put("cpuBusyAtSaturation", finite(z.cpuBusy())).put("jitShareAtSaturation", finite(z.jitShare()))
          .put("idleRssMiB", new JsonObject().put("mean", Recorder.round(z.idleRssMean())).put("max", Recorder.round(z.idleRssMax())))
          .put("loadRssMiB", new JsonObject().put("mean", Recorder.round(z.loadRssMean())).put("max", Recorder.round(z.loadRssMax()))));
      tputChart.computeIfAbsent("measured", k -> new LinkedHashMap<>()).put(z.label(), z.saturated().throughput());
      tputChart.computeIfAbsent("sites' capacity", k -> new LinkedHashMap<>()).put(z.label(), ideal);
      rssChart.computeIfAbsent("idle", k -> new LinkedHashMap<>()).put(z.label(), z.idleRssMean());
      rssChart.computeIfAbsent("under load", k -> new LinkedHashMap<>()).put(z.label(), z.loadRssMean());
    }
    report.table("Throughput, latency and memory per node by mesh size",
        List.of("nodes", "req/s at saturation", "sites' capacity req/s", "share of capacity", "ratio to best",
            "CPU busy at saturation", "nodes' JIT at saturation", "warm-up s", "p50 ms at half load",
            "p99 ms at half load", "failed", "idle RSS MiB (mean)", "idle RSS max", "RSS under load (mean)",
            "RSS under load max"), rows);
    for (String note : notFormed) {
      report.text("Not measured: " + note);
    }
    List<Size> tuned = sizes.stream().filter(z -> !z.label().contains("defaults"))
        .sorted(Comparator.comparingInt(Size::nodes)).toList();
    boolean grows = growsUntilCoresAreTheLimit(tuned.stream()
        .map(z -> new Step(z.saturated().throughput(), z.cpuBusy(), z.jitShare())).toList());
    StringBuilder growth = new StringBuilder();
    for (Size z : tuned) {
      growth.append(growth.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%d: %.0f req/s, CPU %s busy"
          + " (JIT %s)", z.nodes(), z.saturated().throughput(), percent(z.cpuBusy()), percent(z.jitShare())));
    }
    String rss = tuned.stream().map(z -> String.format(Locale.ROOT, "%.0f", z.idleRssMean()))
        .collect(Collectors.joining(", ")) + " MiB mean idle RSS per node"
        + sizes.stream().filter(z -> z.label().contains("defaults")).findFirst()
            .map(z -> String.format(Locale.ROOT, " (%.0f with the JVM's defaults)", z.idleRssMean())).orElse("");
    report.table("the bars", List.of("bar", "measured", "verdict"), List.of(
        List.of("throughput grows with nodes until the machine's cores are the limit (" + Math.round(100 * CORES_BUSY_LIMIT)
            + " % busy, under " + Math.round(100 * JIT_SETTLED_SHARE) + " % of it compiling)", growth.toString(),
            grows ? "met" : "not met"),
        List.of("idle RSS per node stated and kept small", rss, "stated")));
    report.json().put("bars", new JsonObject().put("throughputGrowsUntilCoresAreTheLimit", grows))
        .put("notMeasured", new JsonArray(notFormed)).put("sizes", json).put("settings", s.toJson()).put("nodeJvmFlags", String.join(" ", Rig.NODE_JVM_FLAGS))
        .put("site", new JsonObject().put("tokensPerSecond", SITE.tokensPerSecond()).put("parallel", SITE.parallel())
            .put("answerTokens", ANSWER_TOKENS));
    report.chart("throughput", "Throughput at saturation by mesh size", "requests/s", tputChart);
    report.chart("rss", "Resident memory per node", "MiB", rssChart);
    report.write();
    return report;
  }

  /** Measures one size; a mesh that does not form in time is reported as such, and the run goes on. */
  private static void measureOrNote(String label, int n, List<String> jvmFlags, BenchSettings s, Shot template,
      double siteCapacity, PrintStream out, List<Size> sizes, List<String> notFormed) {
    try {
      sizes.add(measure(label, n, jvmFlags, s, template, siteCapacity, out));
    } catch (IllegalStateException e) {
      String first = e.getMessage().lines().findFirst().orElse("");
      // The log keeps what the node last answered (HIVE_BENCH_KEEP=1 keeps the nodes' logs too); the report, the gist.
      out.println("scale " + label + " nodes: " + first);
      notFormed.add(label + " nodes: " + first.replaceAll("; last: .*", ""));
    }
  }

  private static Size measure(String label, int n, List<String> jvmFlags, BenchSettings s, Shot template,
      double siteCapacity, PrintStream out) {
    try (Rig rig = new Rig(out)) {
      List<Rig.Node> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        OllamaSim sim = rig.sim(SITE.withName("site" + i));
        nodes.add(rig.node("site" + i, sim, i == 0 ? 0 : nodes.get(0).clusterPort(), Strategies.DEFAULT, jvmFlags));
        if (i == 0) {
          rig.awaitModels(nodes.get(0), List.of("m"), Duration.ofSeconds(120));
        }
      }
      for (Rig.Node node : nodes) {
        awaitSites(rig, node, n);
      }
      // Idle: the mesh formed, nothing asked yet, a few publish rounds later.
      Rig.pause(5000);
      double[] idle = rss(nodes);
      List<String> targets = nodes.stream().map(Rig.Node::target).toList();
      int concurrency = Math.max(s.concurrency(), 2 * n * SITE.parallel());
      LoadGenerator gen = new LoadGenerator(rig.loadVertx, targets, concurrency, 60_000);
      IntFunction<Shot> spread = i -> template.at(0, i % n);
      List<Long> pids = nodes.stream().map(node -> node.process().pid()).toList();
      Rig.await(gen.saturate(spread, concurrency, s.warmupMs(), new Recorder()), "warm-up");
      long warmedMs = s.warmupMs();
      double windowJit = Double.NaN;
      while (warmedMs < s.warmupMs() + s.settleMs()) {
        long window = Math.min(SETTLE_WINDOW_MS, s.warmupMs() + s.settleMs() - warmedMs);
        ProcCpu.Machine before = ProcCpu.machine();
        long compiledBefore = ProcCpu.compilerTicks(pids);
        Rig.await(gen.saturate(spread, concurrency, window, new Recorder()), "warm-up");
        warmedMs += window;
        windowJit = share(ProcCpu.compilerTicks(pids), compiledBefore, ProcCpu.machine(), before);
        if (!(windowJit >= JIT_SETTLED_SHARE)) {
          break; // settled, or /proc cannot tell
        }
      }
      boolean jitSettled = windowJit < JIT_SETTLED_SHARE;
      Recorder saturated = new Recorder();
      ProcCpu.Machine cpuBefore = ProcCpu.machine();
      long compiledBefore = ProcCpu.compilerTicks(pids);
      Future<Void> load = gen.saturate(spread, concurrency, s.phaseMs() * s.rounds(), saturated);
      double[] underLoad = {0, 0};
      int samples = 0;
      while (!load.isComplete()) {
        Rig.pause(500);
        double[] now = rss(nodes);
        underLoad[0] += now[0];
        underLoad[1] = Math.max(underLoad[1], now[1]);
        samples++;
      }
      Rig.await(load, "saturation");
      ProcCpu.Machine cpuAfter = ProcCpu.machine();
      double cpuBusy = cpuAfter.busyShareSince(cpuBefore);
      double jitShare = share(ProcCpu.compilerTicks(pids), compiledBefore, cpuAfter, cpuBefore);
      Recorder moderate = new Recorder();
      double rate = Math.max(1, saturated.throughput() / 2);
      List<Shot> trace = new ArrayList<>();
      int i = 0;
      for (Shot shot : Traces.poisson(template, rate, s.phaseMs() / 1000.0, 11)) {
        trace.add(shot.at(shot.atNanos(), i++ % n));
      }
      Rig.await(gen.open(trace, concurrency * 8, moderate), "half load");
      Rig.await(gen.close(), "closing the load generator");
      out.printf(Locale.ROOT, "scale %s: %.0f req/s at saturation (CPU %.0f %% busy, JIT %.0f %% after %d s of warm-up),"
          + " p99 %.1f ms at half, idle RSS %.0f MiB, under load %.0f MiB%n", label, saturated.throughput(), 100 * cpuBusy,
          100 * jitShare, warmedMs / 1000, moderate.totalMs(99), idle[0], underLoad[0] / Math.max(1, samples));
      return new Size(label, n, siteCapacity, saturated, moderate, idle[0], idle[1],
          underLoad[0] / Math.max(1, samples), underLoad[1], warmedMs, jitSettled, cpuBusy, jitShare);
    }
  }

  private static String percent(double share) {
    return Double.isNaN(share) ? "unknown" : String.format(Locale.ROOT, "%.0f %%", 100 * share);
  }

  private static Double finite(double share) {
    return Double.isNaN(share) ? null : Recorder.round(share);
  }

  /** The compilers' share of the machine's ticks between two readings; NaN if either is unknown. */
  private static double share(long compiledAfter, long compiledBefore, ProcCpu.Machine after, ProcCpu.Machine before) {
    long total = after.total() - before.total();
    return compiledAfter < 0 || compiledBefore < 0 || before.total() < 0 || total <= 0
        ? Double.NaN : (double) (compiledAfter - compiledBefore) / total;
  }

  /** One mesh size's throughput at saturation, the machine's busy share and the nodes' compilers' share meanwhile. */
  record Step(double throughput, double cpuBusy, double jitShare) {

    /** The cores were the limit: busy, and not with compiling (a fall then would be the warm-up's, not the mesh's). */
    boolean coresAreTheLimit() {
      return cpuBusy >= CORES_BUSY_LIMIT && jitShare < JIT_SETTLED_SHARE;
    }
  }

  /**
   * The bar "throughput grows with nodes until the machine's cores are the limit", over the sizes
   * run with the tuned flags in the order of their node counts: each step to more nodes must serve
   * more, unless the cores were already the limit at the smaller size.
   */
  static boolean growsUntilCoresAreTheLimit(List<Step> bySize) {
    for (int i = 1; i < bySize.size(); i++) {
      Step smaller = bySize.get(i - 1);
      if (!(bySize.get(i).throughput() > smaller.throughput()) && !smaller.coresAreTheLimit()) {
        return false;
      }
    }
    return true;
  }

  /** Mean and max RSS of {@code nodes}, MiB. */
  private static double[] rss(List<Rig.Node> nodes) {
    double sum = 0;
    double max = 0;
    for (Rig.Node node : nodes) {
      double r = node.rssMiB();
      sum += r;
      max = Math.max(max, r);
    }
    return new double[] {sum / nodes.size(), max};
  }

  /** Waits until {@code node} lists {@code n} healthy nodes in /hive/nodes. */
  private static void awaitSites(Rig rig, Rig.Node node, int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        last = rig.get("http://" + node.target() + "/hive/nodes");
        if (new JsonObject(last).getJsonArray("nodes").size() >= n) {
          return;
        }
      } catch (IOException | RuntimeException e) {
        last = e.toString();
      }
      Rig.pause(250);
    }
    throw new IllegalStateException("node " + node.name() + " never saw " + n + " sites; last: " + last);
  }
}
