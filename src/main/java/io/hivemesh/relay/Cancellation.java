package io.hivemesh.relay;

/**
 * Lets a request be called off while it waits for its answer to start (a cold load can take
 * minutes): whoever holds the pending work registers how to stop it. Confined to one event loop.
 */
public final class Cancellation {

  private Runnable action;
  private boolean cancelled;

  /** Replaces the action that stops the current attempt; runs it at once if already cancelled. */
  public void onCancel(Runnable stop) {
    if (cancelled) {
      stop.run();
    } else {
      action = stop;
    }
  }

  public void cancel() {
    if (!cancelled) {
      cancelled = true;
      if (action != null) {
        action.run();
        action = null;
      }
    }
  }

  public boolean cancelled() {
    return cancelled;
  }

  /** What a cancelled request fails with; nobody is left to read it. */
  public static RelayException canceled() {
    return new RelayException(499, "request canceled", false);
  }
}
