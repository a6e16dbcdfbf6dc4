package io.hivemesh.relay;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Deadlines of the work in flight on one event loop, checked by one periodic sweep rather than by
 * a timer each. Arming and cancelling a Vert.x timer around every request costs a timer map entry
 * and a scheduled task each way on the hot path; entering and leaving a sweep is four field writes.
 * For limits counted in seconds (a body's deadline, an answer's silence), a check a tenth of the
 * limit late is as good as an exact one.
 *
 * <p>Entries form an intrusive list, so there is nothing to allocate per request, and the sweep
 * holds only what has not left: an entry must leave when its work ends. Confined to its event loop.
 */
public final class LoopSweep {

  /** Work under a deadline: checks itself at each sweep. */
  public abstract static class Entry {
    private Entry prev;
    private Entry next;
    private LoopSweep sweep;

    /** Called at each sweep while entered, with {@link System#nanoTime()}; may {@link #leave()}. */
    protected abstract void check(long now);

    /** Stops the checks; does nothing if not entered. */
    public final void leave() {
      if (sweep != null) {
        sweep.remove(this);
      }
    }
  }

  private Entry head;
  private int size;

  private LoopSweep() {
  }

  /**
   * The sweep named {@code name} of the calling event loop, started on first use: every
   * {@code intervalMs} (clamped to 10 ms .. 1 s) it checks the entries of that loop.
   */
  public static LoopSweep current(Vertx vertx, String name, long intervalMs) {
    Context context = vertx.getOrCreateContext();
    LoopSweep sweep = context.get(name);
    if (sweep == null) {
      LoopSweep created = new LoopSweep();
      context.put(name, created);
      vertx.setPeriodic(Math.max(10, Math.min(1000, intervalMs)), id -> created.sweep());
      sweep = created;
    }
    return sweep;
  }

  /** Checks {@code e} at each sweep until it leaves; an entry already in a sweep stays where it is. */
  public void enter(Entry e) {
    if (e.sweep != null) {
      return;
    }
    e.sweep = this;
    e.next = head;
    if (head != null) {
      head.prev = e;
    }
    head = e;
    size++;
  }

  public int size() {
    return size;
  }

  private void remove(Entry e) {
    if (e.prev != null) {
      e.prev.next = e.next;
    } else {
      head = e.next;
    }
    if (e.next != null) {
      e.next.prev = e.prev;
    }
    e.prev = null;
    e.next = null;
    e.sweep = null;
    size--;
  }

  private void sweep() {
    long now = System.nanoTime();
    Entry e = head;
    while (e != null) {
      Entry next = e.next;
      e.check(now);
      // A check that ended other work (a closed connection's requests) may have taken next out.
      e = next == null || next.sweep == this ? next : head;
    }
  }
}
