package io.hivemesh.routing;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default: each site is priced by when the request would be done there, and the cheapest comes
 * first. A site where the model is loaded and has a free slot starts at once; a busy one makes the
 * request wait for a slot; a cold one adds the load, and a load that pushes another model out of
 * memory adds that model's reload and more, unless another site holds that model loaded too. Time
 * is counted in the site's own turns: how long one {@value #REFERENCE_TOKENS}-token answer takes at
 * the speed the site has measured for the request's model (a large model runs at a fraction of a
 * small one's speed on the same GPU), so a fast busy site can beat a slow idle one. A site that has not
 * measured its speed or a load yet is taken to be like the average of those that have (all alike
 * when none has). A request's own answer is priced by what it asks for: an embedding is a few
 * tokens' work, and an answer capped below a turn's length ({@code num_predict}) is priced at its
 * cap, so a short answer takes a slow free slot rather than queue at a fast site; the queue ahead
 * of it is priced in full turns, since the cap says nothing of other requests. This node's own site
 * wins ties, since it saves a hop.
 */
public final class LoadedFirstStrategy implements RoutingStrategy {

  public static final String NAME = "loaded-first";

  /** The answer length a turn is priced for: a typical chat answer. */
  static final double REFERENCE_TOKENS = 100;

  /**
   * What an embedding costs in tokens of answer: Ollama embeds about ten prompt tokens in the time
   * it generates one, and a prompt is tens of tokens. Its queues are short; a load is not.
   */
  static final double EMBEDDING_TOKENS = 2;

  /**
   * A cold load when no candidate has measured one, in average turns. With it a busy loaded site
   * keeps its model's traffic until its queue is about two requests per slot deep, then a cold
   * site loads it. Not in the site's own turns: a fast GPU does not load a model proportionally faster.
   */
  static final double COLD_TURNS = 2.0;

  /**
   * A load that evicts the only loaded copy of a model costs this many loads more: waiting for that
   * model to go idle, its reload at its next request, and the eviction that reload causes in turn.
   */
  static final double EVICT_LOADS = 3.0;

  /**
   * A load that evicts a model another site also holds costs this much of a load more: that
   * model's traffic moves to the other copies, which lose some speed, but nothing is reloaded.
   */
  static final double EVICT_COPY_LOADS = 0.25;

  private final AtomicLong ties = new AtomicLong();

  @Override
  public String name() {
    return NAME;
  }

  /** What stands in for what a site has not measured: the candidates' averages. */
  record Defaults(double tokensPerSecond, double loadSeconds) {

    static Defaults of(List<Candidate> candidates) {
      double tps = 0;
      double loadMs = 0;
      int speeds = 0;
      int loads = 0;
      for (Candidate c : candidates) {
        if (c.tokensPerSecond() > 0) {
          tps += c.tokensPerSecond();
          speeds++;
        }
        if (c.loadMs() > 0) {
          loadMs += c.loadMs();
          loads++;
        }
      }
      double meanTps = speeds == 0 ? 0 : tps / speeds;
      return new Defaults(meanTps, loads > 0 ? loadMs / loads / 1000.0 : COLD_TURNS * turn(meanTps));
    }
  }

  /** Seconds one reference answer takes at {@code tps}; with no speed known every turn is one unit. */
  private static double turn(double tps) {
    return tps > 0 ? REFERENCE_TOKENS / tps : 1.0;
  }

  /** Seconds until a request sent to {@code c} now would be done, by the model above. */
  static double expectedSeconds(Candidate c, Defaults defaults) {
    return expectedSeconds(c, defaults, 1.0, 1.0);
  }

  /**
   * As above, for a request whose own work is {@code ownScale} of a reference answer, behind a
   * queue whose requests each take {@code queueScale} of one.
   */
  static double expectedSeconds(Candidate c, Defaults defaults, double ownScale, double queueScale) {
    double turn = turn(c.tokensPerSecond() > 0 ? c.tokensPerSecond() : defaults.tokensPerSecond());
    if (c.hasFreeSlot()) {
      // Ollama's parallel slots share the device: each busy one slows the rest.
      return ownScale * turn * (1 + (double) c.modelInflight() / c.slots());
    }
    double seconds = queueScale * turn * (1 + (double) (c.modelInflight() + 1) / c.slots()) + ownScale * turn;
    if (!c.loaded()) {
      double load = c.loadMs() > 0 ? c.loadMs() / 1000.0 : defaults.loadSeconds();
      seconds += load + (c.evicts() ? evictLoads(c.onlyCopyShare()) * load : 0);
    }
    return seconds;
  }

  /** How much of a reference answer {@code work} is, for the request itself and for the queue it joins. */
  static double ownScale(Work work) {
    if (work.embedding()) {
      return EMBEDDING_TOKENS / REFERENCE_TOKENS;
    }
    return work.maxTokens() > 0 ? Math.min(work.maxTokens(), REFERENCE_TOKENS) / REFERENCE_TOKENS : 1.0;
  }

  static double queueScale(Work work) {
    return work.embedding() ? EMBEDDING_TOKENS / REFERENCE_TOKENS : 1.0;
  }

  /** What an eviction costs in loads, when {@code onlyCopyShare} of its possible victims are only copies. */
  static double evictLoads(double onlyCopyShare) {
    return EVICT_COPY_LOADS + (EVICT_LOADS - EVICT_COPY_LOADS) * onlyCopyShare;
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates) {
    return order(candidates, Work.ANSWER);
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates, Work work) {
    if (candidates.size() == 1) {
      return candidates;
    }
    Defaults defaults = Defaults.of(candidates);
    double own = ownScale(work);
    double queue = queueScale(work);
    // Rotating the input first spreads equally good sites instead of always taking the first one.
    candidates.sort(Comparator.comparing(Candidate::site));
    Collections.rotate(candidates, (int) Long.remainderUnsigned(ties.getAndIncrement(), candidates.size()));
    candidates.sort(Comparator.comparingDouble((Candidate c) -> expectedSeconds(c, defaults, own, queue))
        .thenComparingDouble(Candidate::siteLoad)
        .thenComparing(c -> !c.local()));
    return candidates;
  }
}
