package io.hivemesh.mesh;

import java.util.concurrent.TimeUnit;

/**
 * When a site's load entry needs its next cluster write. Every write is an event at every member
 * of the cluster, so:
 * <ul>
 *   <li>an unchanged entry is rewritten only once a third of its TTL has passed, which keeps it
 *       alive with two refreshes to spare: rewriting it at every publish tick would cost events
 *       that grow with the square of the mesh and tell nobody anything;</li>
 *   <li>a change in the site's health, drain, limits or loaded models is written at once;</li>
 *   <li>a change in its load alone (under load, every request makes one) waits for a gap since the
 *       last write of {@link #GAP_PER_MEMBER_NANOS} per member, {@link #MIN_GAP_NANOS} at least. A
 *       busy mesh then delivers about a hundred load events a second per member instead of a
 *       number that grows with the square of its size. Up to five members the gap is the 50 ms
 *       the debounce of a load change already gave, now kept by the publish tick's writes too.
 *       Peers' views of a busy site are that much older; an entry node counts what it sent a site
 *       itself until that site's next entry arrives ({@link MeshView#noteDispatched}).</li>
 * </ul>
 * Not thread-safe: its owner serialises the calls.
 */
public final class LoadRefresh {

  /** {@link #writeIn}: nothing to write until the refresh falls due, which the owner's next periodic check finds. */
  public static final long NOTHING_TO_WRITE = -1;
  static final long MIN_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  static final long GAP_PER_MEMBER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final long refreshNanos;
  private SiteState written;
  private long writtenAt;

  public LoadRefresh(long ttlMillis) {
    this.refreshNanos = TimeUnit.MILLISECONDS.toNanos(ttlMillis) / 3;
  }

  /**
   * In how many nanoseconds {@code state} is due its write in a cluster of {@code members}: 0 for
   * now; more for a load change held back by the gap (the owner checks again then); or
   * {@link #NOTHING_TO_WRITE}.
   */
  public long writeIn(SiteState state, long nowNanos, int members) {
    if (written == null || !written.differsOnlyInLoad(state)) {
      return 0;
    }
    if (written.equals(state)) {
      return nowNanos - writtenAt >= refreshNanos ? 0 : NOTHING_TO_WRITE;
    }
    return Math.max(0, writtenAt + loadGapNanos(members) - nowNanos);
  }

  /** The least time between two writes that only move the load, in a cluster of {@code members}. */
  static long loadGapNanos(int members) {
    return Math.max(MIN_GAP_NANOS, members * GAP_PER_MEMBER_NANOS);
  }

  /** A write of {@code state} went out at {@code nowNanos}. */
  public void wrote(SiteState state, long nowNanos) {
    written = state;
    writtenAt = nowNanos;
  }

  /** The cluster may not hold the last write (it failed, or maps merged): the next check writes whatever the state is. */
  public void forget() {
    written = null;
  }
}
