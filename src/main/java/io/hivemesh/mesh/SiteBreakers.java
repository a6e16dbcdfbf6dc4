package io.hivemesh.mesh;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A circuit breaker per site, fed by what relays to it actually return. Health probes see an
 * Ollama that lists its models; only requests see one that answers them with 500s. After
 * {@value #FAILURES_TO_OPEN} failures in a row a site is skipped for a while; then one request
 * may try it (half-open): success closes the breaker, failure opens it again for twice as long.
 * One per node, shared by its event loops.
 */
public final class SiteBreakers {

  private static final Logger log = LoggerFactory.getLogger(SiteBreakers.class);
  static final int FAILURES_TO_OPEN = 3;
  static final long FIRST_OPEN_MS = 5_000;
  static final long MAX_OPEN_MS = 60_000;

  public enum State { CLOSED, OPEN, HALF_OPEN }

  private final Map<String, Breaker> breakers = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  public SiteBreakers() {
    this(System::currentTimeMillis);
  }

  SiteBreakers(LongSupplier clockMillis) {
    this.clock = clockMillis;
  }

  /**
   * Whether routing may consider {@code site}: closed, or half-open with no trial out. Takes
   * nothing, so a site the strategy ranks behind one that answers keeps its trial for later.
   */
  public boolean admits(String site) {
    Breaker b = breakers.get(site);
    return b == null || b.admits(clock.getAsLong());
  }

  /** Whether a request may go to {@code site} now; in half-open state, true for one trial at a time. */
  public boolean allows(String site) {
    Breaker b = breakers.get(site);
    return b == null || b.allows(clock.getAsLong());
  }

  public void succeeded(String site) {
    Breaker b = breakers.get(site);
    if (b != null) {
      b.succeeded(site);
    }
  }

  /** A relay to {@code site} failed in a way that says the site is broken, not busy. */
  public void failed(String site) {
    breakers.computeIfAbsent(site, s -> new Breaker()).failed(site, clock.getAsLong());
  }

  public State state(String site) {
    Breaker b = breakers.get(site);
    return b == null ? State.CLOSED : b.state(clock.getAsLong());
  }

  private static final class Breaker {
    private int failures;
    private long openUntil;
    private long openFor = FIRST_OPEN_MS;
    /** Set while a half-open trial is out; a trial that never reports lapses after one open period. */
    private long trialSince = -1;

    synchronized boolean admits(long now) {
      return failures < FAILURES_TO_OPEN || now >= openUntil && !trialOut(now);
    }

    synchronized boolean allows(long now) {
      if (!admits(now)) {
        return false;
      }
      if (failures >= FAILURES_TO_OPEN) {
        trialSince = now;
      }
      return true;
    }

    private boolean trialOut(long now) {
      return trialSince >= 0 && now - trialSince < openFor;
    }

    synchronized void succeeded(String site) {
      if (failures >= FAILURES_TO_OPEN) {
        log.info("site '{}': circuit closed, a trial request succeeded", site);
      }
      failures = 0;
      openFor = FIRST_OPEN_MS;
      trialSince = -1;
    }

    synchronized void failed(String site, long now) {
      boolean wasTrial = trialSince >= 0;
      failures++;
      if (wasTrial) {
        openFor = Math.min(MAX_OPEN_MS, openFor * 2);
      }
      if (failures >= FAILURES_TO_OPEN) {
        if (wasTrial || failures == FAILURES_TO_OPEN) {
          openUntil = now + openFor;
          log.warn("site '{}': circuit open for {} ms after {} failed requests in a row", site, openFor, failures);
        }
        trialSince = -1;
      }
    }

    synchronized State state(long now) {
      if (failures < FAILURES_TO_OPEN) {
        return State.CLOSED;
      }
      return now < openUntil ? State.OPEN : State.HALF_OPEN;
    }
  }
}
