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

  void onAccepted() {
    requests.incrementAndGet();
    active.incrementAndGet();
  }

  void onCompleted() {
    completed.incrementAndGet();
    active.decrementAndGet();
  }

  void onCanceled() {
    canceled.incrementAndGet();
    active.decrementAndGet();
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
