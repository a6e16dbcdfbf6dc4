package io.hivemesh.bench;

import io.hivemesh.routing.LeastLoadedStrategy;
import io.hivemesh.routing.LoadedFirstStrategy;
import io.hivemesh.routing.RoundRobinStrategy;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where work lands: four simulated sites of unequal speed and slots, models spread unevenly (some
 * on one site, some on several, some loaded, some cold), a mixed chat and embedding trace at several
 * fractions of the mesh's capacity. Every contender replays the same trace from the same start (the
 * sims are reset to the same loaded models before each turn); an ideal central scheduler plays it in
 * simulation.
 */
final class PlacementScenario {

  /** A request still unanswered after this much silence counts as failed (timeout). */
  private static final long REQUEST_TIMEOUT_MS = 30_000;

  static final List<IdealScheduler.Site> SITES = List.of(
      new IdealScheduler.Site("gpu-a", 400, 4, 1500, 3,
          List.of("llama3.2", "qwen2.5:7b", "nomic-embed-text", "mistral"), List.of("llama3.2", "qwen2.5:7b", "nomic-embed-text")),
      new IdealScheduler.Site("gpu-b", 200, 2, 1500, 2,
          List.of("llama3.2", "nomic-embed-text"), List.of("llama3.2", "nomic-embed-text")),
      new IdealScheduler.Site("cpu-c", 100, 2, 1500, 2,
          List.of("qwen2.5:7b", "mistral", "phi3"), List.of("phi3")),
      new IdealScheduler.Site("cpu-d", 50, 1, 1500, 2,
          List.of("llama3.2", "nomic-embed-text"), List.of("nomic-embed-text")));

  /** One instance of the strongest site's kind holding every model: what "a single Ollama" means here. */
  static final IdealScheduler.Site SINGLE = new IdealScheduler.Site("single", 400, 4, 1500, 3,
      List.of("llama3.2", "qwen2.5:7b", "nomic-embed-text", "mistral", "phi3"),
      List.of("llama3.2", "qwen2.5:7b", "nomic-embed-text"));

  static final List<Traces.RequestClass> MIX = List.of(
      new Traces.RequestClass("llama short chat", 25, "llama3.2", false, 20, true),
      new Traces.RequestClass("llama long chat", 10, "llama3.2", false, 150, true),
      new Traces.RequestClass("qwen short chat", 15, "qwen2.5:7b", false, 20, true),
      new Traces.RequestClass("qwen long answer", 5, "qwen2.5:7b", false, 120, false),
      new Traces.RequestClass("embedding", 33, "nomic-embed-text", true, 0, false),
      new Traces.RequestClass("mistral chat", 8, "mistral", false, 40, true),
      new Traces.RequestClass("phi3 answer", 4, "phi3", false, 30, false));

  static final List<String> CONTENDERS = List.of("single", "nginx-rr", "haproxy-leastconn",
      "mesh-" + RoundRobinStrategy.NAME, "mesh-" + LeastLoadedStrategy.NAME, "mesh-default");

  private PlacementScenario() {
  }

  /**
   * Requests per second the sites sustain for this mix: for each model, the slots of every site
   * holding it divided by their service time, over the model's share of the mix; the smallest
   * such rate. Models are assumed loaded (cold loads only make it lower).
   */
  static double capacity(List<IdealScheduler.Site> sites, List<Traces.RequestClass> mix) {
    double weights = mix.stream().mapToDouble(Traces.RequestClass::weight).sum();
    Map<String, Double> share = new LinkedHashMap<>();
    for (Traces.RequestClass c : mix) {
      share.merge(c.model(), c.weight() / weights, Double::sum);
    }
    double capacity = Double.MAX_VALUE;
    for (String model : share.keySet()) {
      double perSecond = 0;
      for (IdealScheduler.Site site : sites) {
        if (!site.models().contains(model)) {
          continue;
        }
        double service = 0;
        double w = 0;
        for (Traces.RequestClass c : mix) {
          if (c.model().equals(model)) {
            Shot shot = c.embedding() ? Traces.embed(model, 8, 0) : Traces.chat(model, c.answerTokens(), c.stream(), "q1");
            service += c.weight() * IdealScheduler.service(site, shot.work());
            w += c.weight();
          }
        }
        perSecond += IdealScheduler.slots(site, model) / (service / w);
      }
      capacity = Math.min(capacity, perSecond / share.get(model));
    }
    return capacity;
  }

  static Report run(BenchSettings s, PrintStream out) {
    Report report = new Report("placement", s.out(), s.command());
    List<IdealScheduler.Site> sites = SITES.stream().map(site -> spedUp(site, s.speedup())).toList();
    IdealScheduler.Site singleSite = spedUp(SINGLE, s.speedup());
    double capacity = capacity(sites, MIX);
    Set<String> allModels = new TreeSet<>();
    sites.forEach(site -> allModels.addAll(site.models()));
    try (Rig rig = new Rig(out)) {
      List<OllamaSim> sims = new ArrayList<>();
      for (IdealScheduler.Site site : sites) {
        sims.add(rig.sim(simOf(site)));
      }
      OllamaSim single = rig.sim(simOf(singleSite));
      int nginx = rig.nginx(sims);
      int haproxy = rig.haproxy(sims);
      List<Rig.Node> siteNodes = new ArrayList<>();
      for (int i = 0; i < sims.size(); i++) {
        siteNodes.add(rig.node(sites.get(i).name(), sims.get(i), i == 0 ? 0 : siteNodes.get(0).clusterPort(),
            LoadedFirstStrategy.NAME, Rig.NODE_JVM_FLAGS));
        if (i == 0) {
          rig.awaitModels(siteNodes.get(0), sites.get(0).models(), Duration.ofSeconds(120));
        }
      }
      // The entry nodes clients talk to, one per strategy; each has a site of its own holding a
      // model no request asks for, so all the work they route goes to the four sites.
      List<Rig.Node> entries = new ArrayList<>();
      for (String strategy : List.of(RoundRobinStrategy.NAME, LeastLoadedStrategy.NAME, LoadedFirstStrategy.NAME)) {
        OllamaSim idle = rig.sim(SimOptions.defaults().withName("entry-" + strategy).withModels("entry-" + strategy)
            .withTokensPerSecond(0).withLoadMs(0));
        entries.add(rig.node("entry-" + strategy, idle, siteNodes.get(0).clusterPort(), strategy, Rig.NODE_JVM_FLAGS));
      }
      for (Rig.Node n : entries) {
        rig.awaitModels(n, List.copyOf(allModels), Duration.ofSeconds(180));
      }
      out.printf(Locale.ROOT, "placement: 4 sites, 3 entry nodes, nginx and haproxy up; capacity %.1f req/s; logs in %s%n",
          capacity, rig.dir);
      List<String> targets = List.of("127.0.0.1:" + single.port(), "127.0.0.1:" + nginx, "127.0.0.1:" + haproxy,
          entries.get(0).target(), entries.get(1).target(), entries.get(2).target());
      LoadGenerator gen = new LoadGenerator(rig.loadVertx, targets, 512, REQUEST_TIMEOUT_MS / s.speedup());
      List<OllamaSim> allSims = new ArrayList<>(sims);
      allSims.add(single);

      Map<String, Map<String, Double>> p99Chart = new LinkedHashMap<>();
      Map<String, Map<String, Double>> ttftChart = new LinkedHashMap<>();
      JsonObject levels = new JsonObject();
      for (int load : s.loads()) {
        double rate = capacity * load / 100.0;
        List<Recorder> recs = new ArrayList<>();
        CONTENDERS.forEach(c -> recs.add(new Recorder()));
        Recorder ideal = new Recorder();
        for (int round = 0; round < s.rounds(); round++) {
          List<Shot> trace = Traces.poisson(MIX, rate, s.phaseMs() / 1000.0, 1000L * load + round);
          ideal.add(IdealScheduler.run(sites, trace));
          for (int k = 0; k < CONTENDERS.size(); k++) {
            int c = (k + round) % CONTENDERS.size();
            for (int i = 0; i < allSims.size(); i++) {
              IdealScheduler.Site site = i < sites.size() ? sites.get(i) : singleSite;
              rig.resetSim(allSims.get(i), site.loaded());
            }
            // The nodes see loads and unloads through their inventory poll (1 s) and load entries.
            Rig.pause(2500);
            long coldBefore = allSims.stream().mapToLong(sim -> sim.stats().coldLoads()).sum();
            Recorder turn = new Recorder();
            Rig.await(gen.open(Traces.aimedAt(trace, c), 4096, turn), "placement load");
            turn.coldLoads = allSims.stream().mapToLong(sim -> sim.stats().coldLoads()).sum() - coldBefore;
            recs.get(c).add(turn);
            out.printf(Locale.ROOT, "placement %d%%: round %d, %s: p99 total %.0f ms, failed %d, cold loads %d%n",
                load, round + 1, CONTENDERS.get(c), turn.totalMs(99), turn.failed(), turn.coldLoads);
          }
        }
        levels.put(load + "%", level(report, load, rate, recs, ideal, p99Chart, ttftChart));
      }
      report.json().put("capacityPerSecond", Recorder.round(capacity)).put("levels", levels)
          .put("settings", s.toJson()).put("sites", sitesJson(sites)).put("mix", mixJson());
      report.chart("p99-total", "p99 total time by offered load", "ms", p99Chart);
      report.chart("p99-ttft", "p99 time to first token by offered load", "ms", ttftChart);
      Rig.await(gen.close(), "closing the load generator");
    }
    report.write();
    return report;
  }

  /**
   * The site with its clock running {@code speedup} times faster: tokens that much quicker, loads
   * that much shorter. With the arrival rate derived from the sped-up capacity, the whole scenario
   * plays out in {@code 1 / speedup} of the time, every contender and the ideal scheduler alike.
   */
  static IdealScheduler.Site spedUp(IdealScheduler.Site site, int speedup) {
    return speedup == 1 ? site : new IdealScheduler.Site(site.name(), site.tokensPerSecond() * speedup, site.parallel(),
        site.loadMs() / speedup, site.maxLoaded(), site.models(), site.loaded());
  }

  private static SimOptions simOf(IdealScheduler.Site site) {
    return SimOptions.defaults().withName(site.name()).withModels(site.models()).withTokensPerSecond(site.tokensPerSecond())
        .withParallel(site.parallel()).withLoadMs(site.loadMs()).withMaxLoaded(site.maxLoaded());
  }

  private static JsonObject level(Report report, int load, double rate, List<Recorder> recs, Recorder ideal,
      Map<String, Map<String, Double>> p99Chart, Map<String, Map<String, Double>> ttftChart) {
    List<String> names = new ArrayList<>(CONTENDERS);
    names.add("ideal (simulated)");
    List<Recorder> all = new ArrayList<>(recs);
    all.add(ideal);
    double best = recs.stream().mapToDouble(r -> r.totalMs(99)).filter(Double::isFinite).min().orElse(Double.NaN);
    List<List<Object>> rows = new ArrayList<>();
    JsonObject json = new JsonObject().put("ratePerSecond", Recorder.round(rate));
    for (int c = 0; c < all.size(); c++) {
      Recorder r = all.get(c);
      rows.add(List.of(names.get(c), r.firstChunkMs(50), r.firstChunkMs(99), r.totalMs(50), r.totalMs(99),
          r.totalMs(99) / best, r.ok(), r.failedWithKinds(), r.coldLoads()));
      json.put(names.get(c), r.toJson().put("p99TotalRatioToBest", Recorder.round(r.totalMs(99) / best)));
      p99Chart.computeIfAbsent(names.get(c), k -> new LinkedHashMap<>()).put(load + "%", r.totalMs(99));
      ttftChart.computeIfAbsent(names.get(c), k -> new LinkedHashMap<>()).put(load + "%", r.firstChunkMs(99));
    }
    report.table(String.format(Locale.ROOT, "%d%% of capacity (%.1f req/s)", load, rate),
        List.of("contender", "p50 TTFT ms", "p99 TTFT ms", "p50 total ms", "p99 total ms", "p99 total / best",
            "ok", "failed", "cold loads"), rows);
    Recorder dflt = recs.get(5);
    double toRr = dflt.totalMs(99) / recs.get(3).totalMs(99);
    double toIdeal = dflt.totalMs(99) / ideal.totalMs(99);
    double toSingle = dflt.totalMs(99) / recs.get(0).totalMs(99);
    // The bar is the mesh as it ships (its default strategy); its round-robin and least-loaded are
    // there to show what the strategy is worth, and their failures are shown beside it.
    Recorder meshRr = recs.get(3);
    Recorder meshLeast = recs.get(4);
    report.table(load + "%: the bars", List.of("bar", "measured", "verdict"), List.of(
        List.of("default p99 total ≤ 0.5 × mesh round-robin", String.format(Locale.ROOT, "%.2f ×", toRr), toRr <= 0.5 ? "met" : "not met"),
        List.of("default p99 total ≤ 1.1 × ideal", String.format(Locale.ROOT, "%.2f ×", toIdeal), toIdeal <= 1.1 ? "met" : "not met"),
        List.of("no failed request through the mesh (default strategy)", dflt.failedWithKinds() + " failed",
            dflt.failed() == 0 ? "met" : "not met"),
        List.of("(context) failed through the mesh's round-robin / least-loaded",
            meshRr.failedWithKinds() + " / " + meshLeast.failedWithKinds(), "–"),
        List.of("default p99 total ≥ 30% below a single instance", String.format(Locale.ROOT, "%.2f ×", toSingle),
            toSingle <= 0.7 ? "met" : "not met")));
    json.put("bars", new JsonObject().put("defaultToRoundRobinP99", Recorder.round(toRr))
        .put("defaultToIdealP99", Recorder.round(toIdeal)).put("defaultToSingleP99", Recorder.round(toSingle))
        .put("defaultFailed", dflt.failed()).put("meshRoundRobinFailed", meshRr.failed())
        .put("meshLeastLoadedFailed", meshLeast.failed()));
    return json;
  }

  private static io.vertx.core.json.JsonArray sitesJson(List<IdealScheduler.Site> sites) {
    io.vertx.core.json.JsonArray a = new io.vertx.core.json.JsonArray();
    for (IdealScheduler.Site s : sites) {
      a.add(new JsonObject().put("name", s.name()).put("tokensPerSecond", s.tokensPerSecond())
          .put("parallel", s.parallel()).put("loadMs", s.loadMs()).put("maxLoaded", s.maxLoaded())
          .put("models", new io.vertx.core.json.JsonArray(s.models()))
          .put("loaded", new io.vertx.core.json.JsonArray(s.loaded())));
    }
    return a;
  }

  private static io.vertx.core.json.JsonArray mixJson() {
    io.vertx.core.json.JsonArray a = new io.vertx.core.json.JsonArray();
    MIX.forEach(c -> a.add(new JsonObject().put("name", c.name()).put("weight", c.weight()).put("model", c.model())
        .put("answerTokens", c.answerTokens()).put("stream", c.stream())));
    return a;
  }
}
