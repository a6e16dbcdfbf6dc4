package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The local side of quotas against a ledger of counted calls: batching, exactness, refusals. */
class SubjectQuotasTest {

  private final Vertx vertx = Vertx.vertx();

  /** A ledger in memory, as the Hazelcast one behaves, counting round trips. */
  private static final class CountingLedger implements QuotaLedger {
    final AtomicInteger calls = new AtomicInteger();
    long tokens;
    int slotsHeld;

    CountingLedger(long tokens) {
      this.tokens = tokens;
    }

    @Override
    public synchronized Future<Long> takeTokens(String subject, int wanted, int rpm) {
      calls.incrementAndGet();
      long granted = Math.min(wanted, tokens);
      tokens -= granted;
      return Future.succeededFuture(granted > 0 ? granted : -30_000L);
    }

    @Override
    public synchronized Future<Integer> holdSlots(String subject, int wanted, int limit) {
      calls.incrementAndGet();
      slotsHeld = Math.min(wanted, limit);
      return Future.succeededFuture(slotsHeld);
    }
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Caller caller(int rpm, int concurrent) {
    return new Caller("s", EnumSet.allOf(Scope.class), ModelAccess.ALL, new Limits(rpm, concurrent), Long.MAX_VALUE);
  }

  /** Admits {@code n} requests one after another, each on the event loop; returns the permits granted. */
  private List<SubjectQuotas.Permit> admit(SubjectQuotas quotas, Caller caller, int n, AtomicInteger refused) throws Exception {
    List<SubjectQuotas.Permit> permits = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Promise<SubjectQuotas.Permit> one = Promise.promise();
      vertx.runOnContext(v -> quotas.admit(caller).onComplete(one));
      try {
        permits.add(one.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      } catch (java.util.concurrent.ExecutionException e) {
        assertEquals(429, ((AuthException) e.getCause()).status());
        refused.incrementAndGet();
      }
    }
    return permits;
  }

  @Test
  void tokensComeInBatchesSoMostRequestsNeedNoRoundTrip() throws Exception {
    CountingLedger ledger = new CountingLedger(1_000_000);
    SubjectQuotas quotas = new SubjectQuotas(vertx, ledger, () -> 1);
    AtomicInteger refused = new AtomicInteger();
    assertEquals(1000, admit(quotas, caller(6000, 0), 1000, refused).size());
    // 5% of 6000 = 300 tokens a batch: a handful of calls for a thousand requests.
    assertTrue(ledger.calls.get() <= 6, ledger.calls.get() + " ledger calls for 1000 requests");
  }

  @Test
  void neverAdmitsMoreThanTheLedgerGrantedAndRefusalsCostNothing() throws Exception {
    CountingLedger ledger = new CountingLedger(50);
    SubjectQuotas quotas = new SubjectQuotas(vertx, ledger, () -> 3);
    AtomicInteger refused = new AtomicInteger();
    assertEquals(50, admit(quotas, caller(600, 0), 200, refused).size());
    assertEquals(150, refused.get());
    int calls = ledger.calls.get();
    admit(quotas, caller(600, 0), 100, refused);
    assertEquals(calls, ledger.calls.get(), "a dry bucket is remembered until its next token is due");
  }

  @Test
  void concurrencySlotsAreHeldWhileInUseAndComeBackOnRelease() throws Exception {
    CountingLedger ledger = new CountingLedger(0);
    SubjectQuotas quotas = new SubjectQuotas(vertx, ledger, () -> 1);
    AtomicInteger refused = new AtomicInteger();
    List<SubjectQuotas.Permit> first = admit(quotas, caller(0, 2), 3, refused);
    assertEquals(2, first.size());
    assertEquals(1, refused.get());
    first.get(0).release();
    first.get(0).release();
    assertEquals(1, admit(quotas, caller(0, 2), 2, refused).size(), "one slot came back, once");
  }
}
