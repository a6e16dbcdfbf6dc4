package io.hivemesh.mesh;

import io.hivemesh.relay.FinalStats;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * How fast a site's Ollama works, learned from the statistics its answers end with: output tokens
 * per second ({@code eval_count / eval_duration}) and how long a cold load took
 * ({@code load_duration}). Published in the site's {@link SiteState}, so that routing can weigh a
 * fast busy site against a slow idle one, and a cold load in milliseconds rather than a guess.
 * Both are moving averages; zero until the first answer that says. Shared by the event loops.
 */
public final class SiteSpeed {

  /** What a site has measured; zero for what it has not. */
  public record Measured(double tokensPerSecond, long loadMs) {
    public static final Measured UNKNOWN = new Measured(0, 0);
  }

  /** Ollama reports a few milliseconds of load_duration for a model that was loaded already. */
  static final long MIN_LOAD_NANOS = 100_000_000L;
  /** Weight of a new answer in the averages: the last ten or so answers count. */
  private static final double WEIGHT = 0.2;
  /** Ollama's final statistics line fits in this (a long {@code context} array comes before it in /api/generate). */
  private static final int TAIL_BYTES = 512;

  private Measured measured = Measured.UNKNOWN;

  /** Learns from the last chunk of an answer, if it is Ollama's final statistics line. */
  public void answered(Buffer lastChunk) {
    int n = lastChunk.length();
    String tail = lastChunk.getString(Math.max(0, n - TAIL_BYTES), n, StandardCharsets.ISO_8859_1.name());
    long evalNanos = FinalStats.number(tail, "\"eval_duration\":");
    if (evalNanos < 0) {
      return;
    }
    answered(FinalStats.number(tail, "\"eval_count\":"), evalNanos, FinalStats.number(tail, "\"load_duration\":"));
  }

  synchronized void answered(long evalCount, long evalNanos, long loadNanos) {
    double tps = measured.tokensPerSecond();
    long loadMs = measured.loadMs();
    // A one-token answer's duration is mostly noise; it says little about the model's speed.
    if (evalCount > 1 && evalNanos > 0) {
      double sample = evalCount * 1e9 / evalNanos;
      tps = tps == 0 ? sample : tps + WEIGHT * (sample - tps);
    }
    if (loadNanos >= MIN_LOAD_NANOS) {
      long sample = loadNanos / 1_000_000;
      loadMs = loadMs == 0 ? sample : Math.round(loadMs + WEIGHT * (sample - loadMs));
    }
    measured = new Measured(tps, loadMs);
  }

  public synchronized Measured measured() {
    return measured;
  }
}
