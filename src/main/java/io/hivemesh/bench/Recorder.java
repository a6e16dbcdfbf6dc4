package io.hivemesh.bench;

import io.vertx.core.json.JsonObject;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What one contender's requests saw: time to first chunk, total time and time per output token in
 * microseconds, plus every outcome that was not a success. Only ever touched from the load
 * generator's event loop, or after its load ended.
 */
public final class Recorder {

  private static final long MAX_MICROS = 3_600_000_000L;

  final Histogram firstChunk = new Histogram(MAX_MICROS, 3);
  final Histogram total = new Histogram(MAX_MICROS, 3);
  final Histogram perToken = new Histogram(MAX_MICROS, 3);
  final Histogram scheduleLag = new Histogram(MAX_MICROS, 3);
  final TreeMap<String, Long> failures = new TreeMap<>();
  long ok;
  long dropped;
  long coldLoads;
  /** Sum of the measured phases' wall time, for throughput. */
  long elapsedNanos;

  void success(long firstChunkNanos, long totalNanos, int chunks) {
    ok++;
    firstChunk.recordValue(Math.max(0, firstChunkNanos / 1000));
    total.recordValue(Math.max(0, totalNanos / 1000));
    if (chunks > 2) {
      // A stream's chunks: one per token, then the closing one with the statistics.
      perToken.recordValue(Math.max(0, (totalNanos - firstChunkNanos) / 1000 / (chunks - 2)));
    }
  }

  /** Adds what {@code other} recorded. */
  void add(Recorder other) {
    firstChunk.add(other.firstChunk);
    total.add(other.total);
    perToken.add(other.perToken);
    scheduleLag.add(other.scheduleLag);
    other.failures.forEach((k, v) -> failures.merge(k, v, Long::sum));
    ok += other.ok;
    dropped += other.dropped;
    coldLoads += other.coldLoads;
    elapsedNanos += other.elapsedNanos;
  }

  void failure(String why) {
    failures.merge(why, 1L, Long::sum);
  }

  void drop() {
    dropped++;
  }

  public long ok() {
    return ok;
  }

  public long failed() {
    return failures.values().stream().mapToLong(Long::longValue).sum() + dropped;
  }

  /** The failures by kind, e.g. "HTTP 404: 147, timeout: 11"; empty when there were none. */
  public String failureKinds() {
    StringBuilder out = new StringBuilder();
    failures.forEach((why, n) -> out.append(out.length() == 0 ? "" : ", ").append(why).append(": ").append(n));
    if (dropped > 0) {
      out.append(out.length() == 0 ? "" : ", ").append("not sent (too many open): ").append(dropped);
    }
    return out.toString();
  }

  /** {@link #failed()}, with its kinds in brackets when there were any. */
  public String failedWithKinds() {
    long n = failed();
    return n == 0 ? "0" : n + " (" + failureKinds() + ")";
  }

  public long coldLoads() {
    return coldLoads;
  }

  /** Successful requests per second over the measured phases. */
  public double throughput() {
    return elapsedNanos == 0 ? 0 : ok * 1e9 / elapsedNanos;
  }

  /** A percentile of total time in milliseconds. */
  public double totalMs(double percentile) {
    return total.getTotalCount() == 0 ? Double.NaN : total.getValueAtPercentile(percentile) / 1000.0;
  }

  public double firstChunkMs(double percentile) {
    return firstChunk.getTotalCount() == 0 ? Double.NaN : firstChunk.getValueAtPercentile(percentile) / 1000.0;
  }

  public double perTokenMs(double percentile) {
    return perToken.getTotalCount() == 0 ? Double.NaN : perToken.getValueAtPercentile(percentile) / 1000.0;
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("ok", ok)
        .put("failed", failed())
        .put("dropped", dropped)
        .put("failures", new JsonObject(new java.util.LinkedHashMap<>(failures)))
        .put("coldLoads", coldLoads)
        .put("throughputPerSecond", round(throughput()))
        .put("firstChunkMs", percentiles(firstChunk))
        .put("totalMs", percentiles(total))
        .put("perTokenMs", percentiles(perToken))
        .put("scheduleLagMs", percentiles(scheduleLag));
  }

  private static JsonObject percentiles(Histogram h) {
    JsonObject o = new JsonObject().put("count", h.getTotalCount());
    if (h.getTotalCount() > 0) {
      o.put("p50", h.getValueAtPercentile(50) / 1000.0).put("p90", h.getValueAtPercentile(90) / 1000.0)
          .put("p99", h.getValueAtPercentile(99) / 1000.0).put("max", h.getMaxValue() / 1000.0)
          .put("mean", round(h.getMean() / 1000.0));
    }
    return o;
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }
}
