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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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

  /** What one mesh size measured. */
  private record Size(String label, int nodes, double siteCapacity, Recorder saturated, Recorder moderate,
      double idleRssMean, double idleRssMax, double loadRssMean, double loadRssMax) {
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
          z.saturated().throughput() / best, z.moderate().totalMs(50), z.moderate().totalMs(99),
          z.saturated().failed() + z.moderate().failed(), z.idleRssMean(), z.idleRssMax(), z.loadRssMean(), z.loadRssMax()));
      json.add(new JsonObject().put("nodes", z.nodes()).put("label", z.label())
          .put("saturation", z.saturated().toJson()).put("moderate", z.moderate().toJson())
          .put("sitesCapacityPerSecond", Recorder.round(ideal))
          .put("idleRssMiB", new JsonObject().put("mean", Recorder.round(z.idleRssMean())).put("max", Recorder.round(z.idleRssMax())))
          .put("loadRssMiB", new JsonObject().put("mean", Recorder.round(z.loadRssMean())).put("max", Recorder.round(z.loadRssMax()))));
      tputChart.computeIfAbsent("measured", k -> new LinkedHashMap<>()).put(z.label(), z.saturated().throughput());
      tputChart.computeIfAbsent("sites' capacity", k -> new LinkedHashMap<>()).put(z.label(), ideal);
      rssChart.computeIfAbsent("idle", k -> new LinkedHashMap<>()).put(z.label(), z.idleRssMean());
      rssChart.computeIfAbsent("under load", k -> new LinkedHashMap<>()).put(z.label(), z.loadRssMean());
    }
    report.table("Throughput, latency and memory per node by mesh size",
        List.of("nodes", "req/s at saturation", "sites' capacity req/s", "share of capacity", "ratio to best",
            "p50 ms at half load", "p99 ms at half load", "failed", "idle RSS MiB (mean)", "idle RSS max",
            "RSS under load (mean)", "RSS under load max"), rows);
    for (String note : notFormed) {
      report.text("Not measured: " + note);
    }
    report.json().put("notMeasured", new JsonArray(notFormed)).put("sizes", json).put("settings", s.toJson()).put("nodeJvmFlags", String.join(" ", Rig.NODE_JVM_FLAGS))
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
      String note = label + " nodes: " + e.getMessage().lines().findFirst().orElse("").replaceAll("; last: .*", "");
      out.println("scale " + note);
      notFormed.add(note);
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
      Rig.await(gen.saturate(i -> template.at(0, i % n), concurrency, s.warmupMs(), new Recorder()), "warm-up");
      Recorder saturated = new Recorder();
      Future<Void> load = gen.saturate(i -> template.at(0, i % n), concurrency, s.phaseMs() * s.rounds(), saturated);
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
      Recorder moderate = new Recorder();
      double rate = Math.max(1, saturated.throughput() / 2);
      List<Shot> trace = new ArrayList<>();
      int i = 0;
      for (Shot shot : Traces.poisson(template, rate, s.phaseMs() / 1000.0, 11)) {
        trace.add(shot.at(shot.atNanos(), i++ % n));
      }
      Rig.await(gen.open(trace, concurrency * 8, moderate), "half load");
      Rig.await(gen.close(), "closing the load generator");
      out.printf(Locale.ROOT, "scale %s: %.0f req/s at saturation, p99 %.1f ms at half, idle RSS %.0f MiB, under load %.0f MiB%n",
          label, saturated.throughput(), moderate.totalMs(99), idle[0], underLoad[0] / Math.max(1, samples));
      return new Size(label, n, siteCapacity, saturated, moderate, idle[0], idle[1],
          underLoad[0] / Math.max(1, samples), underLoad[1]);
    }
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
