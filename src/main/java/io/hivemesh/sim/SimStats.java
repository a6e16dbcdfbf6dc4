package io.hivemesh.sim;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Live counters of one sim, safe to read from any thread. */
public final class SimStats {

  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong canceled = new AtomicLong();
  private final AtomicLong coldLoads = new AtomicLong();
  private final AtomicInteger active = new AtomicInteger();
  private volatile ServedLog servedLog;

  /** Inference requests accepted (generate, chat, embed, embeddings and their /v1 forms). */
  public long requests() {
    return requests.get();
  }

  /** Inference requests answered in full. */
  public long completed() {
    return completed.get();
  }

  /** Inference requests whose client disconnected before the answer was complete. */
  public long canceled() {
    return canceled.get();
  }

  /** Model loads performed. */
  public long coldLoads() {
    return coldLoads.get();
  }

  /** Inference requests generating, or waiting for a slot or a load. */
  public int active() {
    return active.get();
  }

  /**
   * Starts recording what happens to each generate and chat prompt, holding at most
   * {@code capacity} prompts; see {@link ServedLog}.
   */
  public ServedLog keepServedLog(int capacity) {
    ServedLog log = new ServedLog(capacity);
    servedLog = log;
    return log;
  }

  /** The log {@link #keepServedLog} started, or null. */
  public ServedLog servedLog() {
    return servedLog;
  }

  void onAccepted() {
    onAccepted(null);
  }

  void onCompleted() {
    onCompleted(null);
  }

  /** {@code prompt} names the request in the served log; null for requests without one. */
  void onAccepted(String prompt) {
    requests.incrementAndGet();
    active.incrementAndGet();
    ServedLog log = servedLog;
    if (log != null && prompt != null) {
      log.accepted(prompt);
    }
  }

  void onCompleted(String prompt) {
    completed.incrementAndGet();
    active.decrementAndGet();
    ServedLog log = servedLog;
    if (log != null && prompt != null) {
      log.completed(prompt);
    }
  }

  void onCanceled(String prompt) {
    canceled.incrementAndGet();
    active.decrementAndGet();
    ServedLog log = servedLog;
    if (log != null && prompt != null) {
      log.canceled(prompt);
    }
  }

  void onColdLoad() {
    coldLoads.incrementAndGet();
  }

  @Override
  public String toString() {
    return "SimStats[requests=" + requests() + ", completed=" + completed() + ", canceled=" + canceled()
        + ", coldLoads=" + coldLoads() + ", active=" + active() + "]";
  }
}
