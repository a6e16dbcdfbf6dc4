package io.hivemesh.sim;

import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ollama's scheduler, in miniature. A loaded model ("runner") has {@code parallel} slots; a request
 * for a loaded model waits for a slot however long that takes. A request that needs a load joins
 * the bounded pending queue (full: 503) and loads are done one at a time, in order. At most
 * {@code maxLoaded} runners stay loaded: a load evicts an idle runner (shortest keep-alive, then
 * least recently used) or, if all are busy, waits until one is idle. An idle runner unloads when
 * its keep-alive expires. A request with other runner options (such as {@code num_ctx}) reloads
 * its model once the requests using the old options are done.
 *
 * <p>Everything runs on the sim's event loop: no locks, and timers only through Vert.x.
 */
final class SimScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(SimScheduler.class);

  /** The options a runner is started with; a request with different ones needs a reload. */
  record RunnerSpec(String key, int contextLength) {
  }

  enum State { NEW, PENDING, CURRENT, LOADING, WAITING_SLOT, RUNNING, DONE }

  /** One request's claim on a slot. */
  static final class Ticket {
    private final SimModel model;
    private final Long keepAlive;
    private final RunnerSpec spec;
    private final LongConsumer onGrant;
    private final long createdNanos = System.nanoTime();
    private State state = State.NEW;
    private Runner runner;
    private boolean canceled;

    private Ticket(SimModel model, Long keepAlive, RunnerSpec spec, LongConsumer onGrant) {
      this.model = model;
      this.keepAlive = keepAlive;
      this.spec = spec;
      this.onGrant = onGrant;
    }
  }

  /** A loaded model. */
  static final class Runner {
    private final SimModel model;
    private final RunnerSpec spec;
    private final int slots;
    private final ArrayDeque<Ticket> waiting = new ArrayDeque<>();
    private int busy;
    private long sessionNanos;
    private long lastUsedNanos = System.nanoTime();
    private Instant expiresAt;
    private long timerId = -1;
    /** Loaded with other runner options than a queued request needs: unload as soon as idle. */
    private boolean reloading;

    private Runner(SimModel model, RunnerSpec spec, int slots, long sessionNanos) {
      this.model = model;
      this.spec = spec;
      this.slots = slots;
      this.sessionNanos = sessionNanos;
    }

    boolean idle() {
      return busy == 0 && waiting.isEmpty();
    }

    SimModel model() {
      return model;
    }

    int contextLength() {
      return spec.contextLength();
    }

    /** When it unloads if nothing uses it; Ollama estimates from the keep-alive while busy. */
    Instant expiresAt() {
      return expiresAt != null ? expiresAt : GoTime.fromNow(sessionNanos);
    }
  }

  private final Vertx vertx;
  private final SimOptions options;
  private final SimStats stats;
  private final Map<String, Runner> loaded = new HashMap<>();
  private final ArrayDeque<Ticket> pending = new ArrayDeque<>();
  private final ArrayDeque<Ticket> grants = new ArrayDeque<>();
  /** The request the pending loop is working on: waiting for an eviction, or loading. */
  private Ticket current;
  private long loadTimer = -1;
  private boolean granting;
  private boolean pumping;
  private boolean repump;
  private boolean closed;

  SimScheduler(Vertx vertx, SimOptions options, SimStats stats) {
    this.vertx = vertx;
    this.options = options;
    this.stats = stats;
  }

  Ticket newTicket(SimModel model, Long keepAlive, RunnerSpec spec, LongConsumer onGrant) {
    return new Ticket(model, keepAlive, spec, onGrant);
  }

  /** False when the ticket would need the pending queue and that queue is full (Ollama's 503). */
  boolean hasRoom(Ticket t) {
    return usableRunner(t) != null || current == null || pending.size() < options.maxQueue();
  }

  /** Queues the ticket; its callback runs (maybe right away) when it holds a slot. */
  void submit(Ticket t) {
    Runner r = usableRunner(t);
    if (r != null) {
      useRunner(t, r);
      return;
    }
    t.state = State.PENDING;
    pending.add(t);
    pump();
  }

  /** The slot is no longer needed: the answer is complete. */
  void release(Ticket t) {
    if (t.state != State.RUNNING) {
      return;
    }
    t.state = State.DONE;
    Runner r = t.runner;
    r.busy--;
    Ticket next;
    while ((next = r.waiting.poll()) != null) {
      if (!next.canceled) {
        r.busy++;
        next.state = State.RUNNING;
        grant(next);
        return;
      }
    }
    r.lastUsedNanos = System.nanoTime();
    if (r.idle()) {
      becameIdle(r);
    }
  }

  /** The client gave up: drop the ticket wherever it is and free what it held. */
  void cancel(Ticket t) {
    if (t.canceled || t.state == State.DONE) {
      return;
    }
    t.canceled = true;
    switch (t.state) {
      case PENDING -> pending.remove(t);
      case CURRENT -> {
        // Not loading yet (waiting for an eviction): stop working on it.
        current = null;
        pump();
      }
      case WAITING_SLOT -> t.runner.waiting.remove(t);
      case RUNNING -> release(t);
      default -> {
        // LOADING: the load finishes anyway, as in Ollama, and the runner then idles.
      }
    }
  }

  /** keep_alive 0 with an empty prompt: unload now, or as soon as the runner is idle. */
  void expire(SimModel model) {
    Runner r = loaded.get(model.key());
    if (r == null) {
      return;
    }
    r.sessionNanos = 0;
    cancelTimer(r);
    if (r.idle()) {
      unload(r);
    }
  }

  /**
   * Starts over with {@code models} loaded, each as a request with default options would have
   * loaded it, at once and without counting a cold load: the same start for every contender of a
   * benchmark without the load times in between. Idle runners of other models are unloaded; a busy
   * one unloads when its requests are done, as after {@code keep_alive: 0}.
   */
  void reset(List<SimModel> models) {
    Set<String> keep = new HashSet<>();
    models.forEach(m -> keep.add(m.key()));
    for (Runner r : new ArrayList<>(loaded.values())) {
      if (!keep.contains(r.model.key())) {
        expire(r.model);
      }
    }
    for (SimModel m : models) {
      if (loaded.containsKey(m.key())) {
        continue;
      }
      Runner r = new Runner(m, RunOptions.from(null, m).spec(), slots(m), KeepAlive.DEFAULT_NANOS);
      loaded.put(m.key(), r);
      becameIdle(r);
    }
  }

  /** Loaded runners for /api/ps, longest expiry first. */
  List<Runner> loadedRunners() {
    List<Runner> out = new ArrayList<>(loaded.values());
    out.sort(Comparator.comparing((Runner r) -> r.expiresAt().getEpochSecond()).reversed());
    return out;
  }

  /** Stops every timer; nothing is granted afterwards. */
  void close() {
    closed = true;
    if (loadTimer != -1) {
      vertx.cancelTimer(loadTimer);
      loadTimer = -1;
    }
    for (Runner r : loaded.values()) {
      cancelTimer(r);
    }
    loaded.clear();
    pending.clear();
    grants.clear();
    current = null;
  }

  private Runner usableRunner(Ticket t) {
    Runner r = loaded.get(t.model.key());
    return r != null && r.spec.equals(t.spec) ? r : null;
  }

  private void useRunner(Ticket t, Runner r) {
    t.runner = r;
    if (t.keepAlive != null) {
      r.sessionNanos = t.keepAlive;
    }
    cancelTimer(r);
    r.expiresAt = null;
    r.lastUsedNanos = System.nanoTime();
    if (r.busy < r.slots) {
      r.busy++;
      t.state = State.RUNNING;
      grant(t);
    } else {
      t.state = State.WAITING_SLOT;
      r.waiting.add(t);
    }
  }

  /**
   * Runs grant callbacks one after another instead of nested: an instant answer releases its slot
   * inside its callback, which grants the next waiter, and recursion would grow with the queue.
   */
  private void grant(Ticket t) {
    grants.add(t);
    if (granting) {
      return;
    }
    granting = true;
    try {
      Ticket g;
      while ((g = grants.poll()) != null) {
        if (g.canceled || g.state != State.RUNNING || closed) {
          continue;
        }
        try {
          g.onGrant.accept(System.nanoTime() - g.createdNanos);
        } catch (RuntimeException e) {
          LOG.warn("sim request failed after getting its slot", e);
          release(g);
        }
      }
    } finally {
      granting = false;
    }
  }

  private void becameIdle(Runner r) {
    if (loaded.get(r.model.key()) != r) {
      return;
    }
    if (r.reloading || r.sessionNanos == 0) {
      unload(r);
      return;
    }
    r.expiresAt = GoTime.fromNow(r.sessionNanos);
    if (r.sessionNanos != KeepAlive.FOREVER) {
      long ms = Math.max(1, r.sessionNanos / 1_000_000L);
      r.timerId = vertx.setTimer(ms, id -> {
        r.timerId = -1;
        if (r.idle() && loaded.get(r.model.key()) == r) {
          unload(r);
        }
      });
    }
    // A load waiting for room can now evict this runner.
    pump();
  }

  private void unload(Runner r) {
    cancelTimer(r);
    loaded.remove(r.model.key(), r);
    pump();
  }

  private void cancelTimer(Runner r) {
    if (r.timerId != -1) {
      vertx.cancelTimer(r.timerId);
      r.timerId = -1;
    }
  }

  /** Advances the pending queue; re-entrant calls just ask for another pass. */
  private void pump() {
    if (closed) {
      return;
    }
    if (pumping) {
      repump = true;
      return;
    }
    pumping = true;
    try {
      do {
        repump = false;
        pumpOnce();
      } while (repump);
    } finally {
      pumping = false;
    }
  }

  private void pumpOnce() {
    while (true) {
      if (current == null) {
        current = pending.poll();
        if (current == null) {
          return;
        }
        current.state = State.CURRENT;
      }
      Ticket t = current;
      if (t.state == State.LOADING) {
        return;
      }
      if (t.canceled) {
        current = null;
        continue;
      }
      Runner r = loaded.get(t.model.key());
      if (r != null && r.spec.equals(t.spec)) {
        current = null;
        useRunner(t, r);
        continue;
      }
      if (r != null) {
        // Loaded with other runner options: reload once the requests using it are done.
        r.reloading = true;
        if (r.idle()) {
          unload(r);
          continue;
        }
        return;
      }
      if (loaded.size() >= Math.max(1, options.maxLoaded())) {
        Runner victim = idleVictim();
        if (victim == null) {
          // All busy: becameIdle() pumps again when one drains.
          return;
        }
        LOG.info("sim '{}': unloading {} to make room for {}", options.name(), victim.model.key(), t.model.key());
        unload(victim);
        continue;
      }
      startLoad(t);
      return;
    }
  }

  /** Requests a loaded model serves at once: Ollama runs an embedding model one request at a time. */
  private int slots(SimModel model) {
    return model.isEmbedding() ? 1 : Math.max(1, options.parallel());
  }

  /** The idle runner to unload: shortest keep-alive first (as Ollama sorts), then least recently used. */
  private Runner idleVictim() {
    Runner best = null;
    for (Runner r : loaded.values()) {
      if (!r.idle()) {
        continue;
      }
      if (best == null || Long.compareUnsigned(r.sessionNanos, best.sessionNanos) < 0
          || (r.sessionNanos == best.sessionNanos && r.lastUsedNanos < best.lastUsedNanos)) {
        best = r;
      }
    }
    return best;
  }

  private void startLoad(Ticket t) {
    t.state = State.LOADING;
    if (options.loadMs() <= 0) {
      finishLoad(t);
    } else {
      loadTimer = vertx.setTimer(options.loadMs(), id -> {
        loadTimer = -1;
        finishLoad(t);
      });
    }
  }

  private void finishLoad(Ticket t) {
    current = null;
    stats.onColdLoad();
    LOG.info("sim '{}': loaded {} in {} ms", options.name(), t.model.key(), options.loadMs());
    Runner r = new Runner(t.model, t.spec, slots(t.model), t.keepAlive != null ? t.keepAlive : KeepAlive.DEFAULT_NANOS);
    loaded.put(t.model.key(), r);
    if (t.canceled) {
      t.state = State.DONE;
      becameIdle(r);
    } else {
      useRunner(t, r);
    }
    pump();
  }
}
