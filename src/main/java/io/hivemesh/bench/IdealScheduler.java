package io.hivemesh.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bar the mesh's placement is held to: a central scheduler that knows, at every arrival, the
 * exact state of every site (which models are loaded, when each slot frees up, when the loader is
 * free) and puts the request where it will finish first. A discrete-event simulation in the sims'
 * own timing model ({@code io.hivemesh.sim}): a loaded model has {@code parallel} slots (an
 * embedding model one, as in Ollama); a prompt
 * costs {@code tokens / (20 * tps)}, an answer {@code tokens / tps}, an embedding
 * {@code tokens / (10 * tps)}; loads take {@code loadMs}, one at a time per site, and evict the
 * model that goes idle first when {@code maxLoaded} are in. It pays no network or relay cost.
 */
public final class IdealScheduler {

  /** A site as the simulation sees it. */
  public record Site(String name, double tokensPerSecond, int parallel, long loadMs, int maxLoaded,
      List<String> models, List<String> loaded) {
  }

  private static final class Runner {
    final double[] slotFree;

    Runner(int slots, double readyAt) {
      slotFree = new double[slots];
      java.util.Arrays.fill(slotFree, readyAt);
    }

    int freestSlot() {
      int best = 0;
      for (int i = 1; i < slotFree.length; i++) {
        if (slotFree[i] < slotFree[best]) {
          best = i;
        }
      }
      return best;
    }

    double idleAt() {
      double t = 0;
      for (double f : slotFree) {
        t = Math.max(t, f);
      }
      return t;
    }
  }

  private static final class SiteState {
    final Site site;
    final Map<String, Runner> runners = new HashMap<>();
    double loaderFree;

    SiteState(Site site) {
      this.site = site;
      for (String m : site.loaded()) {
        runners.put(m, new Runner(slots(site, m), 0));
      }
    }
  }

  private IdealScheduler() {
  }

  /** Plays {@code shots} (sorted by due time) and records what each request would have seen. */
  public static Recorder run(List<Site> sites, List<Shot> shots) {
    List<SiteState> states = new ArrayList<>();
    for (Site s : sites) {
      states.add(new SiteState(s));
    }
    Recorder rec = new Recorder();
    double end = 0;
    for (Shot shot : shots) {
      double t = shot.atNanos() / 1e9;
      SiteState best = null;
      double bestFinish = Double.MAX_VALUE;
      for (SiteState s : states) {
        if (!s.site.models().contains(shot.model())) {
          continue;
        }
        double finish = start(s, shot.model(), t) + service(s.site, shot.work());
        if (finish < bestFinish) {
          bestFinish = finish;
          best = s;
        }
      }
      if (best == null) {
        rec.failure("no site holds " + shot.model());
        continue;
      }
      Runner runner = best.runners.get(shot.model());
      if (runner == null) {
        double loadStart = loadStart(best, t);
        evictIfFull(best);
        double ready = loadStart + best.site.loadMs() / 1000.0;
        best.loaderFree = ready;
        runner = new Runner(slots(best.site, shot.model()), ready);
        best.runners.put(shot.model(), runner);
        rec.coldLoads++;
      }
      int slot = runner.freestSlot();
      double start = Math.max(t, runner.slotFree[slot]);
      double finish = start + service(best.site, shot.work());
      runner.slotFree[slot] = finish;
      Shot.Work w = shot.work();
      double firstChunk = w.stream() && !w.embedding()
          ? start + w.promptTokens() / (20 * best.site.tokensPerSecond()) + 1 / best.site.tokensPerSecond()
          : finish;
      rec.success((long) ((firstChunk - t) * 1e9), (long) ((finish - t) * 1e9),
          w.stream() ? w.answerTokens() + 1 : 1);
      end = Math.max(end, finish);
    }
    rec.elapsedNanos = (long) (end * 1e9);
    return rec;
  }

  /** When a request for {@code model} arriving at {@code t} could start at site {@code s}. */
  private static double start(SiteState s, String model, double t) {
    Runner r = s.runners.get(model);
    if (r != null) {
      return Math.max(t, r.slotFree[r.freestSlot()]);
    }
    return loadStart(s, t) + s.site.loadMs() / 1000.0;
  }

  private static double loadStart(SiteState s, double t) {
    double at = Math.max(t, s.loaderFree);
    if (s.runners.size() >= s.site.maxLoaded()) {
      at = Math.max(at, firstIdle(s).getValue().idleAt());
    }
    return at;
  }

  private static void evictIfFull(SiteState s) {
    if (s.runners.size() >= s.site.maxLoaded()) {
      s.runners.remove(firstIdle(s).getKey());
    }
  }

  private static Map.Entry<String, Runner> firstIdle(SiteState s) {
    return s.runners.entrySet().stream().min(java.util.Comparator.comparingDouble(e -> e.getValue().idleAt()))
        .orElseThrow();
  }

  /** Seconds a slot of {@code site} spends on a request. */
  static double service(Site site, Shot.Work w) {
    double tps = site.tokensPerSecond();
    return w.embedding() ? w.promptTokens() / (10 * tps) : w.promptTokens() / (20 * tps) + w.answerTokens() / tps;
  }

  /** Requests a loaded model serves at once: Ollama runs embedding models one request at a time. */
  static int slots(Site site, String model) {
    return isEmbedding(model) ? 1 : site.parallel();
  }

  private static boolean isEmbedding(String model) {
    return model.contains("embed");
  }
}
