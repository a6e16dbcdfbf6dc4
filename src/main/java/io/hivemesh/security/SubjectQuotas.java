package io.hivemesh.security;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces every subject's quota across the mesh without a cluster round trip per request. The
 * {@link QuotaLedger} holds the truth; this node takes requests-per-minute tokens from it in
 * small batches and holds concurrent slots as leases, then admits from what it holds locally.
 *
 * <p>Exactness: every admitted request used a token or slot the ledger granted, so a subject never
 * exceeds its limits mesh-wide. What a node holds but does not use is the price of batching: at
 * most one batch (5% of the limit spread over the live nodes) per node.
 */
public final class SubjectQuotas {

  private static final Logger log = LoggerFactory.getLogger(SubjectQuotas.class);
  private static final long MAINTAIN_MS = 250;
  /** A lease the ledger has not heard about for 3 s lapses; renew well before. */
  private static final long RENEW_MS = 1000;
  /** Unused slots are given back after this idle time, not at once: churn would cost round trips. */
  private static final long SHRINK_AFTER_MS = 300;
  private static final long FORGET_AFTER_MS = 120_000;
  private static final long LEDGER_TIMEOUT_MS = 2000;
  private static final int MAX_WAITERS = 256;

  /** What a request holds while it runs; releasing twice is harmless. */
  public interface Permit {
    Permit NONE = () -> { };

    void release();
  }

  private final Vertx vertx;
  private final QuotaLedger ledger;
  private final IntSupplier liveNodes;
  private final Map<String, Subject> subjects = new ConcurrentHashMap<>();
  private long timer = -1;
  private long lastLedgerWarning;

  public SubjectQuotas(Vertx vertx, QuotaLedger ledger, IntSupplier liveNodes) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.liveNodes = liveNodes;
  }

  public void start() {
    timer = vertx.setPeriodic(MAINTAIN_MS, id -> maintain());
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  /** Admits a request of {@code caller} (on the calling event loop) or fails with a 429 {@link AuthException}. */
  public Future<Permit> admit(Caller caller) {
    Limits limits = caller.limits();
    if (!limits.any()) {
      return Future.succeededFuture(Permit.NONE);
    }
    Subject s = subjects.computeIfAbsent(caller.subject(), Subject::new);
    Context context = vertx.getOrCreateContext();
    Future<Void> token = limits.rpm() > 0 ? s.takeToken(context, limits.rpm()) : Future.succeededFuture();
    return token.compose(v -> limits.concurrent() > 0 ? s.takeSlot(context, limits.concurrent()) : Future.succeededFuture(Permit.NONE));
  }

  private void maintain() {
    long now = System.currentTimeMillis();
    subjects.values().removeIf(s -> s.maintain(now));
  }

  private int batch(int limit) {
    return Math.max(1, limit / (20 * Math.max(1, liveNodes.getAsInt())));
  }

  private void ledgerFailed(String subject, Throwable err) {
    long now = System.currentTimeMillis();
    if (now - lastLedgerWarning > 60_000) {
      lastLedgerWarning = now;
      log.warn("quota ledger unreachable ({}); admitting '{}' one batch per attempt, and its concurrent requests up to"
          + " its limit on this node alone, until it answers", err.getMessage(), subject);
    }
  }

  private record Waiter(Context context, Promise<Void> promise) {
    void admit() {
      context.runOnContext(v -> promise.tryComplete());
    }

    void refuse(AuthException why) {
      context.runOnContext(v -> promise.tryFail(why));
    }
  }

  /** One subject's share held by this node. Touched by every loop and by ledger callbacks. */
  private final class Subject {
    private final String name;
    // requests per minute
    private int rpm;
    private int tokens;
    private long dryUntil;
    private boolean fetching;
    private final ArrayDeque<Waiter> waitingTokens = new ArrayDeque<>();
    // concurrent requests
    private int concurrent;
    private int inUse;
    private int held;
    private boolean asking;
    private long lastUse;
    private long lastRenew;
    private final ArrayDeque<Waiter> waitingSlots = new ArrayDeque<>();

    Subject(String name) {
      this.name = name;
      this.lastUse = System.currentTimeMillis();
    }

    synchronized Future<Void> takeToken(Context context, int limit) {
      rpm = limit;
      lastUse = System.currentTimeMillis();
      if (tokens > 0) {
        tokens--;
        if (tokens < batch(rpm) / 2 + 1 && !fetching) {
          fetchTokens();
        }
        return Future.succeededFuture();
      }
      if (lastUse < dryUntil) {
        return Future.failedFuture(overRate(dryUntil - lastUse));
      }
      if (waitingTokens.size() >= MAX_WAITERS) {
        return Future.failedFuture(overRate(1000));
      }
      Waiter w = new Waiter(context, Promise.promise());
      waitingTokens.add(w);
      if (!fetching) {
        fetchTokens();
      }
      return w.promise().future();
    }

    private void fetchTokens() {
      fetching = true;
      int wanted = batch(rpm) + waitingTokens.size();
      ledger.takeTokens(name, wanted, rpm).timeout(LEDGER_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .onComplete(ar -> tokensArrived(ar.succeeded() ? ar.result() : null, wanted, ar.cause()));
    }

    private void tokensArrived(Long granted, int wanted, Throwable failure) {
      List<Runnable> outcomes = new ArrayList<>();
      synchronized (this) {
        fetching = false;
        long now = System.currentTimeMillis();
        if (granted == null) {
          // Unreachable ledger (a partition, a lost member): keep serving, one batch per attempt,
          // so a subject gets at most a batch every couple of seconds from this node until it answers.
          ledgerFailed(name, failure);
          tokens += batch(rpm);
        } else if (granted > 0) {
          tokens += granted.intValue();
        } else {
          dryUntil = now - granted;
        }
        while (!waitingTokens.isEmpty() && tokens > 0) {
          tokens--;
          outcomes.add(waitingTokens.poll()::admit);
        }
        if (!waitingTokens.isEmpty()) {
          if (now < dryUntil) {
            AuthException why = overRate(dryUntil - now);
            waitingTokens.forEach(w -> outcomes.add(() -> w.refuse(why)));
            waitingTokens.clear();
          } else {
            fetchTokens();
          }
        }
      }
      outcomes.forEach(Runnable::run);
    }

    synchronized Future<Permit> takeSlot(Context context, int limit) {
      concurrent = limit;
      lastUse = System.currentTimeMillis();
      if (inUse < held) {
        inUse++;
        return Future.succeededFuture(new OncePermit(this::releaseSlot));
      }
      if (waitingSlots.size() >= MAX_WAITERS) {
        return Future.failedFuture(overConcurrency());
      }
      Waiter w = new Waiter(context, Promise.promise());
      waitingSlots.add(w);
      if (!asking) {
        askSlots(inUse + waitingSlots.size());
      }
      return w.promise().future().map(v -> new OncePermit(this::releaseSlot));
    }

    private void askSlots(int wanted) {
      asking = true;
      ledger.holdSlots(name, wanted, concurrent).timeout(LEDGER_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .onComplete(ar -> slotsArrived(ar.succeeded() ? ar.result() : null, wanted, ar.cause()));
    }

    private void slotsArrived(Integer granted, int wanted, Throwable failure) {
      List<Runnable> outcomes = new ArrayList<>();
      synchronized (this) {
        asking = false;
        lastRenew = System.currentTimeMillis();
        if (granted == null) {
          ledgerFailed(name, failure);
          held = Math.min(wanted, concurrent);
        } else {
          held = granted;
        }
        while (!waitingSlots.isEmpty() && inUse < held) {
          inUse++;
          outcomes.add(waitingSlots.poll()::admit);
        }
        if (!waitingSlots.isEmpty()) {
          if (held >= wanted) {
            // The answer was to an older, smaller question (a shrink): ask again for the waiters.
            askSlots(inUse + waitingSlots.size());
          } else {
            AuthException why = overConcurrency();
            waitingSlots.forEach(w -> outcomes.add(() -> w.refuse(why)));
            waitingSlots.clear();
          }
        }
      }
      outcomes.forEach(Runnable::run);
    }

    private synchronized void releaseSlot() {
      inUse--;
      lastUse = System.currentTimeMillis();
    }

    /** Gives back idle slots, keeps held ones alive; true once the subject can be forgotten. */
    synchronized boolean maintain(long now) {
      if (!asking) {
        if (held > inUse && now - lastUse > SHRINK_AFTER_MS) {
          askSlots(inUse);
        } else if (held > 0 && now - lastRenew > RENEW_MS) {
          askSlots(held);
        }
      }
      return held == 0 && inUse == 0 && !asking && !fetching && waitingTokens.isEmpty() && waitingSlots.isEmpty()
          && now - lastUse > FORGET_AFTER_MS;
    }

    private AuthException overRate(long waitMillis) {
      return AuthException.tooManyRequests("'" + name + "' is over its limit of " + rpm + " requests per minute",
          (int) Math.ceil(waitMillis / 1000.0));
    }

    private AuthException overConcurrency() {
      return AuthException.tooManyRequests("'" + name + "' already has " + concurrent
          + " requests in flight, its limit", 1);
    }
  }

  /** A slot given back once however often the request's end is signalled. */
  private static final class OncePermit implements Permit {
    private Runnable release;

    OncePermit(Runnable release) {
      this.release = release;
    }

    @Override
    public synchronized void release() {
      if (release != null) {
        release.run();
        release = null;
      }
    }
  }
}
