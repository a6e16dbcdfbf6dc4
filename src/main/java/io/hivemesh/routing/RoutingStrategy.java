package io.hivemesh.routing;

import java.util.List;

/**
 * Orders the sites that hold a model, best first; the dispatcher tries them in that order until
 * one answers. Called on the request's path: implementations must be cheap, thread-safe, and must
 * not touch the cluster.
 */
public interface RoutingStrategy {

  /** The strategy's name as given to {@code --strategy}. */
  String name();

  /** {@code candidates} is never empty and may be reordered in place; returns the order to try. */
  List<Candidate> order(List<Candidate> candidates);

  /**
   * As {@link #order(List)}, knowing what the request asks for: an embedding takes milliseconds
   * where an answer takes seconds, so a queue costs it little and a model load a lot; an answer
   * capped short costs little wherever it runs. Strategies that do not weigh time ignore it.
   */
  default List<Candidate> order(List<Candidate> candidates, Work work) {
    return order(candidates);
  }
}
