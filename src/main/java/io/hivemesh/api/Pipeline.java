package io.hivemesh.api;

/**
 * The steps a request passes in order, as plain calls: each step either calls {@code next} (at
 * once or on a later turn of the loop) or answers the client itself. The inference routes run
 * one of these straight from the server's request handler, without the router's matching.
 */
final class Pipeline {

  /** One check or action on the request. */
  interface Step {
    void run(Exchange x, Runnable next);
  }

  private static final Runnable NOTHING = () -> { };

  private final Step[] steps;

  Pipeline(Step... steps) {
    this.steps = steps.clone();
  }

  void run(Exchange x) {
    run(x, 0);
  }

  private void run(Exchange x, int i) {
    try {
      steps[i].run(x, i + 1 == steps.length ? NOTHING : () -> run(x, i + 1));
    } catch (RuntimeException e) {
      x.fail(e);
    }
  }
}
