package io.hivemesh.routing;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Takes the sites in turn, blind to load and to which models are loaded: the baseline. */
public final class RoundRobinStrategy implements RoutingStrategy {

  public static final String NAME = "round-robin";

  private final AtomicLong next = new AtomicLong();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Candidate> order(List<Candidate> candidates) {
    // A stable base order, so that the rotation visits every site whatever order the view gives.
    candidates.sort(Comparator.comparing(Candidate::site));
    int shift = (int) Long.remainderUnsigned(next.getAndIncrement(), candidates.size());
    Collections.rotate(candidates, -shift);
    return candidates;
  }
}
