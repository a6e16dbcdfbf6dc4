package io.hivemesh.routing;

import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntBinaryOperator;

/**
 * Power of two choices over in-flight requests per slot: draw two sites at random and take the
 * less loaded. Near-optimal spread without the herd effect of always picking the global minimum
 * from a view that is a few hundred milliseconds old. The remaining sites follow by load, as
 * fallbacks.
 */
public final class LeastLoadedStrategy implements RoutingStrategy {

  public static final String NAME = "least-loaded";

  private static final Comparator<Candidate> BY_LOAD = Comparator.comparingDouble(Candidate::siteLoad);

  private final IntBinaryOperator random;

  public LeastLoadedStrategy() {
    this((origin, bound) -> ThreadLocalRandom.current().nextInt(origin, bound));
  }

  /** With a chosen source of randomness: {@code random.applyAsInt(origin, bound)} in [origin, bound). */
  LeastLoadedStrategy(IntBinaryOperator random) {
    this.random = random;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates) {
    int n = candidates.size();
    if (n == 1) {
      return candidates;
    }
    int a = random.applyAsInt(0, n);
    int b = random.applyAsInt(0, n - 1);
    if (b >= a) {
      b++;
    }
    Candidate first = candidates.get(a);
    Candidate second = candidates.get(b);
    Candidate winner = BY_LOAD.compare(second, first) < 0 ? second : first;
    candidates.remove(winner);
    candidates.sort(BY_LOAD);
    candidates.add(0, winner);
    return candidates;
  }
}
