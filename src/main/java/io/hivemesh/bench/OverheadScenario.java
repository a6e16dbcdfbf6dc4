package io.hivemesh.bench;

import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.routing.Strategies;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the mesh costs per request: a sim that answers at once, reached directly, through nginx,
 * through HAProxy, through the node beside it (local path) and through a node that forwards over
 * the event bus (remote path). Throughput at saturation, and latency at a moderate open-loop rate;
 * the contenders take turns, round after round, so drift on a shared machine hits all alike.
 */
final class OverheadScenario {

  static final List<String> CONTENDERS = List.of("direct", "nginx", "haproxy", "vertx-relay", "mesh-local",
      "mesh-remote");
  private static final int NGINX = CONTENDERS.indexOf("nginx");
  private static final int BARE = CONTENDERS.indexOf("vertx-relay");
  private static final int LOCAL = CONTENDERS.indexOf("mesh-local");
  private static final int REMOTE = CONTENDERS.indexOf("mesh-remote");

  private OverheadScenario() {
  }

  static Report run(BenchSettings s, PrintStream out) {
    Report report = new Report("overhead", s.out(), s.command());
    try (Rig rig = new Rig(out)) {
      OllamaSim sim = rig.sim(SimOptions.defaults().withName("backend").withModels("m")
          .withTokensPerSecond(0).withLoadMs(0).withParallel(64));
      OllamaSim other = rig.sim(SimOptions.defaults().withName("other").withModels("other")
          .withTokensPerSecond(0).withLoadMs(0));
      int nginx = rig.nginx(List.of(sim));
      int haproxy = rig.haproxy(List.of(sim));
      int bare = rig.bareRelay(sim);
      Rig.Node local = rig.node("local", sim, 0, Strategies.DEFAULT, Rig.NODE_JVM_FLAGS);
      rig.awaitModels(local, List.of("m"), Duration.ofSeconds(90));
      Rig.Node remote = rig.node("remote", other, local.clusterPort(), Strategies.DEFAULT, Rig.NODE_JVM_FLAGS);
      rig.awaitModels(remote, List.of("m", "other"), Duration.ofSeconds(90));
      rig.awaitModels(local, List.of("m", "other"), Duration.ofSeconds(90));
      out.println("overhead: sim, nginx, haproxy, the bare Vert.x relay and two nodes up; logs in " + rig.dir);
      List<String> targets = List.of("127.0.0.1:" + sim.port(), "127.0.0.1:" + nginx, "127.0.0.1:" + haproxy,
          "127.0.0.1:" + bare, local.target(), remote.target());
      LoadGenerator gen = new LoadGenerator(rig.loadVertx, targets, Math.max(s.concurrency(), 256), 60_000);

      Map<String, Map<String, Double>> throughputChart = new LinkedHashMap<>();
      Map<String, Map<String, Double>> addedChart = new LinkedHashMap<>();
      JsonObject modes = new JsonObject();
      for (boolean stream : new boolean[] {false, true}) {
        String mode = stream ? "streaming" : "non-streaming";
        Shot template = Traces.generate("m", stream ? 10 : 1, stream);
        List<Recorder> saturated = new ArrayList<>();
        List<Recorder> moderate = new ArrayList<>();
        for (int c = 0; c < CONTENDERS.size(); c++) {
          saturated.add(new Recorder());
          moderate.add(new Recorder());
        }
        // Warm-up: the JIT of every process on the path, connections in every pool.
        for (int c = 0; c < CONTENDERS.size(); c++) {
          int target = c;
          Rig.await(gen.saturate(i -> template.at(0, target), s.concurrency(), s.warmupMs(), new Recorder()), "warm-up");
        }
        List<Shot> trace = Traces.poisson(template, s.rate(), s.phaseMs() / 1000.0, 7);
        // Each round's saturation throughput per contender: how far the ratios move within one run.
        double[][] byRound = new double[s.rounds()][CONTENDERS.size()];
        for (int round = 0; round < s.rounds(); round++) {
          for (int k = 0; k < CONTENDERS.size(); k++) {
            int c = (k + round) % CONTENDERS.size();
            int target = c;
            Recorder turn = new Recorder();
            Rig.await(gen.saturate(i -> template.at(0, target), s.concurrency(), s.phaseMs(), turn), "saturation");
            saturated.get(c).add(turn);
            byRound[round][c] = turn.throughput();
            Rig.await(gen.open(Traces.aimedAt(trace, c), s.concurrency() * 8, moderate.get(c)), "moderate load");
          }
          out.printf("overhead %s: round %d of %d done%n", mode, round + 1, s.rounds());
        }
        modes.put(mode, table(report, mode, saturated, moderate, byRound, s, throughputChart, addedChart));
      }
      report.json().put("modes", modes).put("settings", s.toJson()).put("nodeJvmFlags", String.join(" ", Rig.NODE_JVM_FLAGS));
      report.chart("throughput", "Throughput at saturation (" + s.concurrency() + " requests open)", "requests/s",
          throughputChart);
      report.chart("added-latency", "Added latency over direct at " + (int) s.rate() + " req/s", "ms", addedChart);
      Rig.await(gen.close(), "closing the load generator");
    }
    report.write();
    return report;
  }

  private static JsonObject table(Report report, String mode, List<Recorder> saturated, List<Recorder> moderate,
      double[][] byRound, BenchSettings s, Map<String, Map<String, Double>> throughputChart,
      Map<String, Map<String, Double>> addedChart) {
    double best = saturated.stream().mapToDouble(Recorder::throughput).max().orElse(0);
    Recorder direct = moderate.get(0);
    List<List<Object>> rows = new ArrayList<>();
    JsonObject json = new JsonObject();
    for (int c = 0; c < CONTENDERS.size(); c++) {
      Recorder sat = saturated.get(c);
      Recorder mod = moderate.get(c);
      double addedP50 = mod.totalMs(50) - direct.totalMs(50);
      double addedP99 = mod.totalMs(99) - direct.totalMs(99);
      rows.add(List.of(CONTENDERS.get(c), sat.throughput(), sat.throughput() / best, mod.totalMs(50), mod.totalMs(99),
          c == 0 ? "–" : (Object) addedP50, c == 0 ? "–" : (Object) addedP99, sat.failed() + mod.failed()));
      json.put(CONTENDERS.get(c), new JsonObject().put("saturation", sat.toJson()).put("moderate", mod.toJson())
          .put("throughputRatioToBest", Recorder.round(sat.throughput() / best))
          .put("addedP50Ms", Recorder.round(addedP50)).put("addedP99Ms", Recorder.round(addedP99)));
      throughputChart.computeIfAbsent(mode, k -> new LinkedHashMap<>()).put(CONTENDERS.get(c), sat.throughput());
      if (c > 0) {
        addedChart.computeIfAbsent(mode + " p50", k -> new LinkedHashMap<>()).put(CONTENDERS.get(c), addedP50);
        addedChart.computeIfAbsent(mode + " p99", k -> new LinkedHashMap<>()).put(CONTENDERS.get(c), addedP99);
      }
    }
    report.table(mode + ": saturation (" + s.concurrency() + " open) and " + (int) s.rate() + " req/s open-loop",
        List.of("contender", "req/s at saturation", "ratio to best", "p50 ms", "p99 ms", "added p50 ms",
            "added p99 ms", "failed"), rows);
    double nginx = saturated.get(NGINX).throughput();
    double localRatio = saturated.get(LOCAL).throughput() / nginx;
    double remoteRatio = saturated.get(REMOTE).throughput() / nginx;
    double localAdded = moderate.get(LOCAL).totalMs(50) - direct.totalMs(50);
    double remoteAdded = moderate.get(REMOTE).totalMs(50) - direct.totalMs(50);
    // Not a bar: how much of the gap to nginx is the mesh's own work rather than the framework's.
    double bareRatio = saturated.get(BARE).throughput() / nginx;
    double localToBare = saturated.get(LOCAL).throughput() / saturated.get(BARE).throughput();
    List<List<Object>> bars = List.of(
        List.of("local path throughput ≥ nginx", String.format(Locale.ROOT, "%.2f × nginx (by round: %s)",
            localRatio, ratios(byRound, LOCAL, NGINX)), localRatio >= 1 ? "met" : "not met"),
        List.of("remote path throughput ≥ 0.5 × nginx", String.format(Locale.ROOT,
            "%.2f × nginx (by round: %s)", remoteRatio, ratios(byRound, REMOTE, NGINX)), remoteRatio >= 0.5 ? "met" : "not met"),
        List.of("local added p50 < 0.3 ms", Report.format(localAdded) + " ms", localAdded < 0.3 ? "met" : "not met"),
        List.of("remote added p50 < 1 ms", Report.format(remoteAdded) + " ms", remoteAdded < 1 ? "met" : "not met"),
        List.of("(context) bare Vert.x relay throughput", String.format(Locale.ROOT,
            "%.2f × nginx (by round: %s)", bareRatio, ratios(byRound, BARE, NGINX)), "–"),
        List.of("(context) local path throughput", String.format(Locale.ROOT, "%.2f × bare relay",
            localToBare), "–"));
    report.table(mode + ": the bars", List.of("bar", "measured", "verdict"), bars);
    json.put("bars", new JsonObject().put("localThroughputToNginx", Recorder.round(localRatio))
        .put("remoteThroughputToNginx", Recorder.round(remoteRatio))
        .put("localAddedP50Ms", Recorder.round(localAdded)).put("remoteAddedP50Ms", Recorder.round(remoteAdded))
        .put("bareRelayToNginx", Recorder.round(bareRatio)).put("localToBareRelay", Recorder.round(localToBare))
        .put("localToNginxByRound", ratioArray(byRound, LOCAL, NGINX))
        .put("remoteToNginxByRound", ratioArray(byRound, REMOTE, NGINX))
        .put("bareRelayToNginxByRound", ratioArray(byRound, BARE, NGINX)));
    return json;
  }

  /** Contender {@code c}'s saturation throughput over {@code to}'s, round by round, as "0.97, 1.02". */
  private static String ratios(double[][] byRound, int c, int to) {
    StringBuilder out = new StringBuilder();
    for (double[] round : byRound) {
      out.append(out.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", round[c] / round[to]));
    }
    return out.toString();
  }

  private static JsonArray ratioArray(double[][] byRound, int c, int to) {
    JsonArray out = new JsonArray();
    for (double[] round : byRound) {
      out.add(Recorder.round(round[c] / round[to]));
    }
    return out;
  }
}
