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
}
