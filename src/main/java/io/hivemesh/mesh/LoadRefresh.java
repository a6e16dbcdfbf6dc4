package io.hivemesh.mesh;

import java.util.concurrent.TimeUnit;

/**
 * Whether a site's load entry needs a cluster write now: when it changed since the last write, or
 * when that write is a third of the entry's TTL old. Every write reaches every node's listener, so
 * rewriting an unchanged entry at every publish tick costs the mesh a number of events that grows
 * with the square of its size and tells nobody anything; a third of the TTL keeps the entry alive
 * with two refreshes to spare. Not thread-safe: its owner serialises the calls.
 */
public final class LoadRefresh {

  private final long refreshNanos;
  private SiteState written;
  private long writtenAt;

  public LoadRefresh(long ttlMillis) {
    this.refreshNanos = TimeUnit.MILLISECONDS.toNanos(ttlMillis) / 3;
  }

  public boolean due(SiteState state, long nowNanos) {
    return written == null || !written.equals(state) || nowNanos - writtenAt >= refreshNanos;
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
