package io.hivemesh.mesh;

import io.vertx.core.Vertx;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Timeouts of one fixed length on one event loop, under a single Vert.x timer. Every item added
 * runs out {@code delayMs} after it was added, so deadlines come in the order items do: a queue,
 * whose head is the next to run out. A Vert.x timer per request costs a timer map entry and a
 * scheduled task each way (set, then cancel) on every request of the hot path; this costs a queue
 * slot, and one timer per delay at most.
 *
 * <p>There is no cancel: an item that stopped waiting is skipped when its turn comes, and dropped
 * from the head whenever one is added. So only short delays belong here (an item that waits the
 * whole delay holds the ones behind it until it runs out): the queue never holds more than the
 * items added within one delay. Not thread-safe: used on its event loop only.
 *
 * @param <T> what waits
 */
final class FixedTimeouts<T> {

  private final Vertx vertx;
  private final long delayMs;
  private final Predicate<T> waiting;
  private final Consumer<T> expire;
  private Object[] items = new Object[64];
  private long[] deadlines = new long[64];
  private int head;
  private int size;
  private long timer = -1;

  /**
   * @param waiting whether an item still waits (false once answered: it is then skipped)
   * @param expire  runs for an item still waiting when its delay has passed
   */
  FixedTimeouts(Vertx vertx, long delayMs, Predicate<T> waiting, Consumer<T> expire) {
    this.vertx = vertx;
    this.delayMs = delayMs;
    this.waiting = waiting;
    this.expire = expire;
  }

  void add(T item) {
    dropAnswered();
    if (size == items.length) {
      grow();
    }
    int tail = (head + size) % items.length;
    items[tail] = item;
    deadlines[tail] = System.nanoTime() + delayMs * 1_000_000;
    size++;
    if (timer < 0) {
      timer = vertx.setTimer(delayMs, id -> fire());
    }
  }

  int size() {
    return size;
  }

  /** Stops the timer and forgets every item, without running any. */
  void clear() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    java.util.Arrays.fill(items, null);
    head = 0;
    size = 0;
  }

  @SuppressWarnings("unchecked")
  private void fire() {
    timer = -1;
    long now = System.nanoTime();
    while (size > 0) {
      T item = (T) items[head];
      if (waiting.test(item) && deadlines[head] - now > 0) {
        break;
      }
      pop();
      if (waiting.test(item)) {
        expire.accept(item);
      }
    }
    if (size > 0 && timer < 0) {
      long ms = Math.max(1, (deadlines[head] - now + 999_999) / 1_000_000);
      timer = vertx.setTimer(ms, id -> fire());
    }
  }

  @SuppressWarnings("unchecked")
  private void dropAnswered() {
    while (size > 0 && !waiting.test((T) items[head])) {
      pop();
    }
  }

  private void pop() {
    items[head] = null;
    head = (head + 1) % items.length;
    size--;
  }

  private void grow() {
    Object[] moreItems = new Object[items.length * 2];
    long[] moreDeadlines = new long[items.length * 2];
    for (int i = 0; i < size; i++) {
      moreItems[i] = items[(head + i) % items.length];
      moreDeadlines[i] = deadlines[(head + i) % items.length];
    }
    items = moreItems;
    deadlines = moreDeadlines;
    head = 0;
  }
}
