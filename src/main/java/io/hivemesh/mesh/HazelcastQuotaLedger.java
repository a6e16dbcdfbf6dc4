package io.hivemesh.mesh;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import io.hivemesh.security.QuotaLedger;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;

/**
 * The quota ledger as entries of the {@code hive.quota} map, changed only by entry processors:
 * each call runs atomically on the member that owns the subject's partition, one round trip, no
 * lock. Buckets refill by that member's clock.
 */
public final class HazelcastQuotaLedger implements QuotaLedger {

  /** A lease not renewed for this long no longer counts: its node has crashed or been cut off. */
  static final long LEASE_MILLIS = 3000;

  private final Vertx vertx;
  private final String node;
  private final IMap<String, Object> map;

  public HazelcastQuotaLedger(Vertx vertx, HazelcastInstance hazelcast, String node) {
    this.vertx = vertx;
    this.node = node;
    this.map = hazelcast.getMap("hive.quota");
  }

  @Override
  public Future<Long> takeTokens(String subject, int wanted, int rpm) {
    return Future.fromCompletionStage(map.submitToKey("rpm:" + subject, new TakeTokens(wanted, rpm)),
        vertx.getOrCreateContext());
  }

  @Override
  public Future<Integer> holdSlots(String subject, int wanted, int limit) {
    return Future.fromCompletionStage(map.submitToKey("concurrent:" + subject, new HoldSlots(node, wanted, limit)),
        vertx.getOrCreateContext());
  }

  /** Token bucket: value {@code double[]{tokens, refilledAtMillis}}. */
  static final class TakeTokens implements EntryProcessor<String, Object, Long> {
    private final int wanted;
    private final int rpm;

    TakeTokens(int wanted, int rpm) {
      this.wanted = wanted;
      this.rpm = rpm;
    }

    @Override
    public Long process(Map.Entry<String, Object> entry) {
      long now = System.currentTimeMillis();
      double perMilli = rpm / 60_000.0;
      double tokens = rpm;
      if (entry.getValue() instanceof double[] b) {
        tokens = Math.min(rpm, b[0] + Math.max(0, now - (long) b[1]) * perMilli);
      }
      long granted = Math.min(wanted, (long) Math.floor(tokens));
      tokens -= granted;
      entry.setValue(new double[] {tokens, now});
      return granted > 0 ? granted : -(long) Math.ceil((1 - tokens) / perMilli);
    }
  }

  /** Concurrency leases: value {@code HashMap<node, long[]{slots, renewedAtMillis}>}. */
  static final class HoldSlots implements EntryProcessor<String, Object, Integer> {
    private final String node;
    private final int wanted;
    private final int limit;

    HoldSlots(String node, int wanted, int limit) {
      this.node = node;
      this.wanted = wanted;
      this.limit = limit;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Integer process(Map.Entry<String, Object> entry) {
      long now = System.currentTimeMillis();
      HashMap<String, long[]> leases = entry.getValue() instanceof HashMap<?, ?> m
          ? (HashMap<String, long[]>) m : new HashMap<>();
      leases.values().removeIf(l -> now - l[1] > LEASE_MILLIS);
      long others = leases.entrySet().stream().filter(e -> !e.getKey().equals(node))
          .mapToLong(e -> e.getValue()[0]).sum();
      int granted = (int) Math.max(0, Math.min(wanted, limit - others));
      if (granted > 0) {
        leases.put(node, new long[] {granted, now});
      } else {
        leases.remove(node);
      }
      entry.setValue(leases.isEmpty() ? null : leases);
      return granted;
    }
  }
}
