package io.hivemesh.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a sim did with each prompt it was asked to answer: accepted, completed, canceled. Off unless
 * {@link SimStats#keepServedLog} turns it on; holds at most {@code capacity} prompts, forgetting
 * the oldest, so a long run cannot grow it without bound. Tests use it to prove that no request
 * was served twice across a mesh.
 */
public final class ServedLog {

  /** Counts for one prompt. */
  public record Served(int accepted, int completed, int canceled) {
  }

  private final int capacity;
  private final LinkedHashMap<String, Served> byPrompt;

  ServedLog(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
    this.byPrompt = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Served> eldest) {
        return size() > ServedLog.this.capacity;
      }
    };
  }

  synchronized void accepted(String prompt) {
    Served s = byPrompt.getOrDefault(prompt, new Served(0, 0, 0));
    byPrompt.put(prompt, new Served(s.accepted() + 1, s.completed(), s.canceled()));
  }

  synchronized void completed(String prompt) {
    Served s = byPrompt.getOrDefault(prompt, new Served(0, 0, 0));
    byPrompt.put(prompt, new Served(s.accepted(), s.completed() + 1, s.canceled()));
  }

  synchronized void canceled(String prompt) {
    Served s = byPrompt.getOrDefault(prompt, new Served(0, 0, 0));
    byPrompt.put(prompt, new Served(s.accepted(), s.completed(), s.canceled() + 1));
  }

  /** A copy of every prompt still held, in the order they were first seen. */
  public synchronized Map<String, Served> snapshot() {
    return new LinkedHashMap<>(byPrompt);
  }

  public int capacity() {
    return capacity;
  }
}
