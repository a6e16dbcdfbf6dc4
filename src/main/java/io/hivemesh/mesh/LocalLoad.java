package io.hivemesh.mesh;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exact count of the requests this node's own Ollama is serving, shared by all event loops. The
 * node publishes it in its {@link SiteState}; its own routing reads it directly. Two bounds hold:
 * {@code maxInflight} for the site, and {@code maxPerModel} for any one model, so a hot model
 * cannot take every place and starve requests for the others.
 */
public final class LocalLoad {

  private final int maxInflight;
  private final int maxPerModel;
  private final AtomicInteger total = new AtomicInteger();
  private final AtomicLong served = new AtomicLong();
  /** Only models with a request in flight have an entry: its size never exceeds {@code maxInflight}. */
  private final ConcurrentHashMap<String, Integer> perModel = new ConcurrentHashMap<>();

  private final Runnable onChange;

  public LocalLoad(int maxInflight) {
    this(maxInflight, maxInflight, () -> { });
  }

  /** {@code onChange} runs after every acquire and release: keep it cheap. */
  public LocalLoad(int maxInflight, int maxPerModel, Runnable onChange) {
    this.maxInflight = maxInflight;
    this.maxPerModel = Math.min(maxPerModel, maxInflight);
    this.onChange = onChange;
  }

  /**
   * Takes a place for one request; false when the site already holds {@code maxInflight}, or
   * {@code maxPerModel} for this model.
   */
  public boolean tryAcquire(String modelKey) {
    while (true) {
      int n = total.get();
      if (n >= maxInflight) {
        return false;
      }
      if (total.compareAndSet(n, n + 1)) {
        break;
      }
    }
    boolean[] taken = {false};
    perModel.compute(modelKey, (k, v) -> {
      int held = v == null ? 0 : v;
      if (held >= maxPerModel) {
        return v;
      }
      taken[0] = true;
      return held + 1;
    });
    if (!taken[0]) {
      total.decrementAndGet();
      return false;
    }
    served.incrementAndGet();
    onChange.run();
    return true;
  }

  public void release(String modelKey) {
    perModel.computeIfPresent(modelKey, (k, v) -> v <= 1 ? null : v - 1);
    total.decrementAndGet();
    onChange.run();
  }

  public int total() {
    return total.get();
  }

  /** Requests this site has taken since the node started. */
  public long served() {
    return served.get();
  }

  public int forModel(String modelKey) {
    return perModel.getOrDefault(modelKey, 0);
  }

  public int maxInflight() {
    return maxInflight;
  }

  public int maxPerModel() {
    return maxPerModel;
  }

  /** Models with requests in flight (never more entries than requests in flight). */
  public int modelsInFlight() {
    return perModel.size();
  }

  public Map<String, Integer> snapshot() {
    return new HashMap<>(perModel);
  }
}
