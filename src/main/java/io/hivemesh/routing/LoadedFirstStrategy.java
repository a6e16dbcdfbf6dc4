package io.hivemesh.routing;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default: each site is priced by when the request would be done there, and the cheapest comes
 * first. A site where the model is loaded and has a free slot starts at once; a busy one makes the
 * request wait for a slot; a cold one adds the load, and a load that pushes another model out of
 * memory adds that model's reload and more. Time is counted in the site's own turns: how long one
 * {@value #REFERENCE_TOKENS}-token answer takes at the speed the site has measured, so a fast busy
 * site can beat a slow idle one. A site that has not measured its speed yet is taken to be as fast
 * as the average of those that have (all alike when none has). This node's own site wins ties, since
 * it saves a hop.
 */
public final class LoadedFirstStrategy implements RoutingStrategy {

  public static final String NAME = "loaded-first";

  /** The answer length a turn is priced for: a typical chat answer. */
  static final double REFERENCE_TOKENS = 100;

  /**
   * A cold load at a site that has not measured one, in turns. With it a busy loaded site keeps
   * its model's traffic until its queue is about two requests per slot deep, then a cold site loads it.
   */
  static final double COLD_TURNS = 2.0;

  /**
   * A load that evicts a model costs this many loads more: waiting for that model to go idle, its
   * reload at its next request, and the eviction that reload causes in turn.
   */
  static final double EVICT_LOADS = 3.0;

  private final AtomicLong ties = new AtomicLong();

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Seconds until a request sent to {@code c} now would be done, by the model above;
   * {@code fallbackTps} stands in for a speed the site has not measured (0: none has).
   */
  static double expectedSeconds(Candidate c, double fallbackTps) {
    double tps = c.tokensPerSecond() > 0 ? c.tokensPerSecond() : fallbackTps;
    // With no speed known anywhere, every site's turn is the same unit and only queues and loads count.
    double turn = tps > 0 ? REFERENCE_TOKENS / tps : 1.0;
    if (c.hasFreeSlot()) {
      return turn * (1 + (double) c.modelInflight() / c.slots());
    }
    double seconds = turn * (2 + (double) (c.modelInflight() + 1) / c.slots());
    if (!c.loaded()) {
      double load = c.loadMs() > 0 && c.tokensPerSecond() > 0 ? c.loadMs() / 1000.0 : COLD_TURNS * turn;
      seconds += load + (c.evicts() ? EVICT_LOADS * load : 0);
    }
    return seconds;
  }

  /** The mean measured speed of the candidates, or 0 when none has measured one. */
  static double meanTps(List<Candidate> candidates) {
    double sum = 0;
    int known = 0;
    for (Candidate c : candidates) {
      if (c.tokensPerSecond() > 0) {
        sum += c.tokensPerSecond();
        known++;
      }
    }
    return known == 0 ? 0 : sum / known;
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates) {
    if (candidates.size() == 1) {
      return candidates;
    }
    double fallbackTps = meanTps(candidates);
    // Rotating the input first spreads equally good sites instead of always taking the first one.
    candidates.sort(Comparator.comparing(Candidate::site));
    Collections.rotate(candidates, (int) Long.remainderUnsigned(ties.getAndIncrement(), candidates.size()));
    candidates.sort(Comparator.comparingDouble((Candidate c) -> expectedSeconds(c, fallbackTps))
        .thenComparingDouble(Candidate::siteLoad)
        .thenComparing(c -> !c.local()));
    return candidates;
  }
}
