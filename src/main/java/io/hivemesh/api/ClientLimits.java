package io.hivemesh.api;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What all of a node's client connections share, across its event loops: how many are open
 * ({@code --max-connections}) and how many request body bytes they hold ({@code --max-body-buffer}).
 */
public final class ClientLimits {

  final AtomicInteger openConnections = new AtomicInteger();
  final AtomicLong bodyBytes = new AtomicLong();
  /** When a refused connection was last logged (nanoTime); one line per minute is enough. */
  final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - 120_000_000_000L);

  public int openConnections() {
    return openConnections.get();
  }

  public long bodyBytes() {
    return bodyBytes.get();
  }
}
