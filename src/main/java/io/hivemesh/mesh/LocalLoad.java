package io.hivemesh.mesh;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Exact count of the requests this node's own Ollama is serving, shared by all event loops. The
 * node publishes it in its {@link SiteState}; its own routing reads it directly.
 */
public final class LocalLoad {

  private final int maxInflight;
  private final AtomicInteger total = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
  private final ConcurrentHashMap<String, AtomicInteger> perModel = new ConcurrentHashMap<>();

  private final Runnable onChange;

  public LocalLoad(int maxInflight) {
    this(maxInflight, () -> { });
  }

  /** {@code onChange} runs after every acquire and release: keep it cheap. */
  public LocalLoad(int maxInflight, Runnable onChange) {
    this.maxInflight = maxInflight;
    this.onChange = onChange;
  }

  /** Takes a place for one request; false when the site already holds {@code maxInflight}. */
  public boolean tryAcquire(String modelKey) {
    while (true) {
      int n = total.get();
      if (n >= maxInflight) {
        return false;
      }
      if (total.compareAndSet(n, n + 1)) {
        served.incrementAndGet();
        perModel.computeIfAbsent(modelKey, k -> new AtomicInteger()).incrementAndGet();
        onChange.run();
        return true;
      }
    }
  }

  public void release(String modelKey) {
    total.decrementAndGet();
    AtomicInteger c = perModel.get(modelKey);
    if (c != null) {
      c.decrementAndGet();
    }
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
    AtomicInteger c = perModel.get(modelKey);
    return c == null ? 0 : c.get();
  }

  public int maxInflight() {
    return maxInflight;
  }

  public Map<String, Integer> snapshot() {
    Map<String, Integer> out = new HashMap<>();
    perModel.forEach((k, v) -> {
      int n = v.get();
      if (n > 0) {
        out.put(k, n);
      }
    });
    return out;
  }
}
