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

  private final Step[] steps;

  Pipeline(Step... steps) {
    this.steps = steps.clone();
  }

  void run(Exchange x) {
    new Cursor(x).run();
  }

  /** A request's place in the steps: one object per request is every step's {@code next}. */
  private final class Cursor implements Runnable {
    private final Exchange x;
    private int next;

    Cursor(Exchange x) {
      this.x = x;
    }

    @Override
    public void run() {
      if (next == steps.length) {
        return;
      }
      Step step = steps[next++];
      try {
        step.run(x, this);
      } catch (RuntimeException e) {
        x.fail(e);
      }
    }
  }
}
