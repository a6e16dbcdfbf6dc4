package io.hivemesh.routing;

import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default: a site where the model is loaded and has a free slot answers at once; a cold
 * load costs seconds to minutes. So free loaded slots come first (least loaded first, this node's
 * own site winning ties since it saves a hop); then every other site by its expected wait, counted
 * in requests per slot, where a cold site pays {@link #COLD_PENALTY} extra for the load, and
 * {@link #EVICT_PENALTY} more when the load would push another model out of memory.
 */
public final class LoadedFirstStrategy implements RoutingStrategy {

  public static final String NAME = "loaded-first";

  /**
   * A cold load is worth this many queued requests per slot. With it a busy loaded site keeps its
   * model's traffic until its queue is about two requests per slot deep, then a cold site loads it.
   */
  static final double COLD_PENALTY = 2.0;

  /**
   * A load that evicts a model makes that model's next request load it again somewhere: counted
   * as a second load, so a site with room for the model loads it first.
   */
  static final double EVICT_PENALTY = COLD_PENALTY;

  private final AtomicLong ties = new AtomicLong();

  @Override
  public String name() {
    return NAME;
  }

  static double expectedWait(Candidate c) {
    if (c.hasFreeSlot()) {
      return (double) c.modelInflight() / c.slots();
    }
    return 1.0 + (double) (c.modelInflight() + 1) / c.slots() + (c.loaded() ? 0 : COLD_PENALTY)
        + (c.evicts() ? EVICT_PENALTY : 0);
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates) {
    if (candidates.size() == 1) {
      return candidates;
    }
    // Rotating the input first spreads equally good sites instead of always taking the first one.
    candidates.sort(Comparator.comparing(Candidate::site));
    java.util.Collections.rotate(candidates, (int) Long.remainderUnsigned(ties.getAndIncrement(), candidates.size()));
    candidates.sort(Comparator.comparingDouble(LoadedFirstStrategy::expectedWait)
        .thenComparingDouble(Candidate::siteLoad)
        .thenComparing(c -> !c.local()));
    return candidates;
  }
}
