package io.hivemesh.backend;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What this site's connections to its Ollama have done, for the meters. Counted when a connection
 * opens, fails to open or closes, never per request: with keep-alive working, a busy site opens
 * few. A high rate of opens, or of closes by Ollama, says something between the node and Ollama
 * (Ollama itself, or a proxy before it) is not keeping connections.
 */
public final class OllamaConnectionStats {

  /** Why a connection to Ollama closed. */
  public enum CloseReason {
    /** Unused past the idle limit. */
    IDLE,
    /** Ollama, or the network, closed or reset it, or an answer said it was the last on it. */
    OLLAMA,
    /** This node closed it to stop an answer nobody wants any more: how Ollama learns to stop. */
    CANCELLED,
    /** No first byte, or silence mid-answer, past its limit. */
    TIMEOUT,
    /** Ollama sent what is not HTTP, or bytes nobody asked for, or the connection failed otherwise. */
    ERROR,
    /** The node was shutting down. */
    SHUTDOWN;

    /** The reason as a meter label. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong connectFailures = new AtomicLong();
  private final AtomicLongArray closed = new AtomicLongArray(CloseReason.values().length);

  void countOpened() {
    opened.incrementAndGet();
  }

  void countConnectFailure() {
    connectFailures.incrementAndGet();
  }

  void countClosed(CloseReason why) {
    closed.incrementAndGet(why.ordinal());
  }

  /** Connections opened since the node started. */
  public long opened() {
    return opened.get();
  }

  /** Attempts to connect that failed (refused, timed out, a certificate not trusted). */
  public long connectFailures() {
    return connectFailures.get();
  }

  /** Connections closed for {@code why} since the node started. */
  public long closed(CloseReason why) {
    return closed.get(why.ordinal());
  }

  /** Connections open now. */
  public long open() {
    long gone = 0;
    for (int i = 0; i < closed.length(); i++) {
      gone += closed.get(i);
    }
    return Math.max(0, opened.get() - gone);
  }
}
