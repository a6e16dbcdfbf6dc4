package io.hivemesh.mesh;

import io.hivemesh.relay.FinalStats;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How fast a site's Ollama works, learned from the statistics its answers end with: output tokens
 * per second ({@code eval_count / eval_duration}) and how long a cold load took
 * ({@code load_duration}), per model (a 70B model on a GPU runs at a tenth of a 3B one's speed,
 * and loads ten times slower) and for the site as a whole. Published in the site's
 * {@link SiteState}, so that routing can weigh a fast busy site against a slow idle one, and a
 * cold load in milliseconds rather than a guess. All are moving averages; zero until the first
 * answer that says. Shared by the event loops.
 */
public final class SiteSpeed {

  /** What a site has measured; zero for what it has not. */
  public record Measured(double tokensPerSecond, long loadMs) {
    public static final Measured UNKNOWN = new Measured(0, 0);

    /** This one moved toward one more answer's figures (a negative figure: the answer did not say). */
    Measured next(long evalCount, long evalNanos, long loadNanos) {
      double tps = tokensPerSecond;
      long load = loadMs;
      // A one-token answer's duration is mostly noise; it says little about the model's speed.
      if (evalCount > 1 && evalNanos > 0) {
        double sample = evalCount * 1e9 / evalNanos;
        tps = tps == 0 ? sample : tps + WEIGHT * (sample - tps);
      }
      if (loadNanos >= MIN_LOAD_NANOS) {
        long sample = loadNanos / 1_000_000;
        load = load == 0 ? sample : Math.round(load + WEIGHT * (sample - load));
      }
      return tps == tokensPerSecond && load == loadMs ? this : new Measured(tps, load);
    }

    /** This, with what it lacks taken from {@code fallback}. */
    Measured or(Measured fallback) {
      return tokensPerSecond > 0 && loadMs > 0 ? this
          : new Measured(tokensPerSecond > 0 ? tokensPerSecond : fallback.tokensPerSecond,
              loadMs > 0 ? loadMs : fallback.loadMs);
    }
  }

  /**
   * A site's figures as published: the whole site's, and each model's it has measured (by model key).
   * A model that has not answered at a site is taken to be as fast as the site's others there: the
   * best guess, and one that corrects itself with the model's first answer.
   */
  public record Speeds(Measured site, Map<String, Measured> models) {
    public static final Speeds UNKNOWN = new Speeds(Measured.UNKNOWN, Map.of());

    /** The speed and load time to price a request for {@code modelKey} at on this site. */
    public Measured of(String modelKey) {
      Measured m = models.get(modelKey);
      return m == null ? site : m.or(site);
    }

    /** The fields of a site's published entry: {@code tps} and {@code load_ms}, and per model under {@code speeds}. */
    public void putInto(JsonObject json) {
      JsonObject perModel = new JsonObject();
      models.forEach((model, m) -> perModel.put(model, new JsonObject().put("tps", m.tokensPerSecond()).put("load_ms", m.loadMs())));
      json.put("tps", site.tokensPerSecond()).put("load_ms", site.loadMs()).put("speeds", perModel);
    }

    /** Read from a published entry; what an entry lacks (a peer that does not measure) is unknown. */
    public static Speeds from(JsonObject json) {
      Map<String, Measured> models = new LinkedHashMap<>();
      JsonObject perModel = json.getJsonObject("speeds", new JsonObject());
      for (String model : perModel.fieldNames()) {
        if (perModel.getValue(model) instanceof JsonObject m) {
          models.put(model, measured(m));
        }
      }
      return new Speeds(measured(json), Map.copyOf(models));
    }

    private static Measured measured(JsonObject j) {
      return new Measured(Math.max(0, j.getDouble("tps", 0.0)), Math.max(0, j.getLong("load_ms", 0L)));
    }
  }

  /** Ollama reports a few milliseconds of load_duration for a model that was loaded already. */
  static final long MIN_LOAD_NANOS = 100_000_000L;
  /** Weight of a new answer in the averages: the last ten or so answers count. */
  private static final double WEIGHT = 0.2;
  /** Models remembered per site; past it the one that answered least lately goes (its entry is published). */
  static final int MAX_MODELS = 64;

  private Measured site = Measured.UNKNOWN;
  private final Map<String, Measured> models = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Measured> eldest) {
      return size() > MAX_MODELS;
    }
  };
  private Speeds published = Speeds.UNKNOWN;

  /** Learns from the last chunk of an answer for {@code modelKey}, if it is Ollama's final statistics line. */
  public void answered(String modelKey, Buffer lastChunk) {
    // The statistics close the final line (a long context array comes before them in /api/generate).
    FinalStats tail = FinalStats.ofTail(lastChunk);
    long evalNanos = tail.evalDurationNanos();
    if (evalNanos < 0) {
      return;
    }
    answered(modelKey, tail.evalCount(), evalNanos, tail.loadDurationNanos());
  }

  synchronized void answered(String modelKey, long evalCount, long evalNanos, long loadNanos) {
    Measured nextSite = site.next(evalCount, evalNanos, loadNanos);
    boolean changed = nextSite != site;
    site = nextSite;
    if (!modelKey.isEmpty()) {
      Measured before = models.getOrDefault(modelKey, Measured.UNKNOWN);
      Measured after = before.next(evalCount, evalNanos, loadNanos);
      if (after != before) {
        models.put(modelKey, after);
        changed = true;
      }
    }
    if (changed) {
      published = null;
    }
  }

  /** What the site publishes; the same object until an answer changes it. */
  public synchronized Speeds measured() {
    if (published == null) {
      published = new Speeds(site, Map.copyOf(models));
    }
    return published;
  }
}
