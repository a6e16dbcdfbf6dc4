package io.hivemesh.observe;

import io.hivemesh.backend.OllamaConnectionStats;
import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteBreakers;
import io.hivemesh.model.ModelName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.util.function.IntSupplier;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The mesh's own meters, beside Vert.x's in one Prometheus registry per node. The request path
 * only increments meters it finds in a map; anything that needs the mesh's state (sites, breakers,
 * a site's queues) is read when Prometheus scrapes. Label values are bounded: models by the mesh's
 * inventory (else {@value #OTHER}), subjects by {@code metrics-max-subjects}, sites by the mesh,
 * endpoints by the routes.
 */
public final class MeshMetrics {

  public static final String OTHER = "other";
  public static final String NONE = "none";
  /** Time buckets (seconds) for time to first token and total time: a cold load takes minutes. */
  private static final Duration[] TIME_BUCKETS = {
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120),
      Duration.ofSeconds(300), Duration.ofSeconds(600)};
  private static final double[] RATE_BUCKETS = {1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 1000};

  private final PrometheusMeterRegistry registry;
  private final MeshView view;
  private final SiteBreakers breakers;
  private final int maxSubjects;

  /** A meter's labels as a map key: found per request without building a string of them. */
  private record Labels(String first, String second, int status) {
  }

  private final Map<Labels, Counter> requests = new ConcurrentHashMap<>();
  private final Map<String, Timer> firstToken = new ConcurrentHashMap<>();
  private final Map<Labels, Timer> totalTime = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> tokenRate = new ConcurrentHashMap<>();
  private final Map<Labels, Counter> failovers = new ConcurrentHashMap<>();
  private final Map<String, Counter> coldLoads = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  private final Map<String, Counter> subjectRequests = new ConcurrentHashMap<>();
  private final Map<Labels, Counter> subjectTokens = new ConcurrentHashMap<>();
  private final Map<String, String> modelLabels = new ConcurrentHashMap<>();
  /** Gauges of the sites in the view, by site; changed on scrape only. */
  private final Map<String, Meter[]> siteGauges = new HashMap<>();
  /** The site's own Ollama, as this node relays to it: its time to first byte. */
  private final Timer siteFirstByte;
  private Set<String> loadedBefore;

  public MeshMetrics(PrometheusMeterRegistry registry, MeshView view, SiteBreakers breakers, LocalLoad load,
                     int slots, int maxSubjects) {
    this.registry = registry;
    this.view = view;
    this.breakers = breakers;
    this.maxSubjects = maxSubjects;
    Gauge.builder("hive.site.inflight.requests", load, LocalLoad::total)
        .description("Requests running or waiting at this site's Ollama").register(registry);
    Gauge.builder("hive.site.queued.requests", load, l -> queued(l.snapshot(), slots))
        .description("Requests waiting at this site's Ollama beyond its slots (parallel) per model").register(registry);
    Gauge.builder("hive.site.served.requests", load, LocalLoad::served)
        .description("Requests this site's Ollama has taken since the node started").register(registry);
    this.siteFirstByte = Timer.builder("hive.site.ollama.first.byte")
        .description("Time this site's Ollama took to start answering a relayed request (cold loads included)")
        .publishPercentiles(0.99).distributionStatisticExpiry(Duration.ofMinutes(1)).distributionStatisticBufferLength(2)
        .serviceLevelObjectives(TIME_BUCKETS).register(registry);
  }

  /** The client port's open connections and the requests it holds (read at scrape). */
  public void clientPort(IntSupplier connections, IntSupplier requests) {
    // A gauge holds its object weakly unless told otherwise; these suppliers have no other holder.
    Gauge.builder("hive.client.connections", connections, IntSupplier::getAsInt).strongReference(true)
        .description("Client connections open on this node's HTTP port").register(registry);
    Gauge.builder("hive.client.requests.active", requests, IntSupplier::getAsInt).strongReference(true)
        .description("Client requests this node holds: reading a body, waiting for a site or streaming an answer")
        .register(registry);
  }

  /** This site's connections to its Ollama (read at scrape: the relay counts only opens and closes). */
  public void ollamaConnections(OllamaConnectionStats stats) {
    Gauge.builder("hive.site.ollama.connections", stats, OllamaConnectionStats::open)
        .description("Connections open from this node to its site's Ollama for relayed requests").register(registry);
    FunctionCounter.builder("hive.site.ollama.connects", stats, OllamaConnectionStats::opened).tag("outcome", "ok")
        .description("Connections this node opened to its site's Ollama").register(registry);
    FunctionCounter.builder("hive.site.ollama.connects", stats, OllamaConnectionStats::connectFailures)
        .tag("outcome", "failed").description("Connections this node opened to its site's Ollama").register(registry);
    for (CloseReason why : CloseReason.values()) {
      FunctionCounter.builder("hive.site.ollama.connections.closed", stats, s -> s.closed(why)).tag("reason", why.label())
          .description("Connections to this site's Ollama closed, by why").register(registry);
    }
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Requests waiting beyond the slots each model has at this site. */
  static int queued(Map<String, Integer> perModel, int slots) {
    int queued = 0;
    for (int n : perModel.values()) {
      queued += Math.max(0, n - slots);
    }
    return queued;
  }

  /** The model's label: its name when some site of the mesh holds it, else {@value #OTHER}. */
  public String modelLabel(String modelKey) {
    if (modelKey == null || modelKey.isEmpty()) {
      return NONE;
    }
    String known = modelLabels.get(modelKey);
    if (known != null) {
      return known;
    }
    if (!view.knowsModel(modelKey)) {
      return OTHER;
    }
    // Bounded: only keys some site's inventory names get here.
    return modelLabels.computeIfAbsent(modelKey, k -> ModelName.parse(k).display());
  }

  /** The subject's label: its name among the first {@code maxSubjects} seen, else {@value #OTHER}. */
  String subjectLabel(String subject) {
    if (subjectRequests.containsKey(subject) || subjectRequests.size() < maxSubjects) {
      return subject;
    }
    return OTHER;
  }

  void started(String model) {
    inFlight.computeIfAbsent(model, m -> {
      AtomicInteger n = new AtomicInteger();
      Gauge.builder("hive.requests.in.flight", n, AtomicInteger::get).tag("model", m)
          .description("Client requests this node is relaying, by model").register(registry);
      return n;
    }).incrementAndGet();
  }

  void ended(String model) {
    AtomicInteger n = inFlight.get(model);
    if (n != null) {
      n.decrementAndGet();
    }
  }

  void request(String endpoint, String model, int status) {
    requests.computeIfAbsent(new Labels(endpoint, model, status), k -> Counter.builder("hive.requests").tag("endpoint", endpoint).tag("model", model)
        .tag("status", Integer.toString(status)).description("Client requests answered by this node")
        .register(registry)).increment();
  }

  void firstToken(String model, long nanos) {
    firstToken.computeIfAbsent(model, m -> Timer.builder("hive.time.to.first.token").tag("model", m)
        .description("From a request's arrival to the first byte of its answer leaving this node")
        .serviceLevelObjectives(TIME_BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
  }

  void total(String endpoint, String model, long nanos) {
    totalTime.computeIfAbsent(new Labels(endpoint, model, 0), k -> Timer.builder("hive.request.duration")
        .tag("endpoint", endpoint).tag("model", model)
        .description("From a request's arrival to the end of its answer").serviceLevelObjectives(TIME_BUCKETS)
        .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
  }

  void tokensPerSecond(String model, double rate) {
    tokenRate.computeIfAbsent(model, m -> DistributionSummary.builder("hive.output.tokens.per.second").tag("model", m)
        .description("Output tokens per second of an answer (eval_count / eval_duration of its final chunk)")
        .serviceLevelObjectives(RATE_BUCKETS).register(registry)).record(rate);
  }

  void subject(String subject, long promptTokens, long outputTokens) {
    String label = subjectLabel(subject);
    subjectRequests.computeIfAbsent(label, s -> Counter.builder("hive.subject.requests").tag("subject", s)
        .description("Client requests by token subject").register(registry)).increment();
    if (promptTokens > 0) {
      subjectTokens(label, "prompt").increment(promptTokens);
    }
    if (outputTokens > 0) {
      subjectTokens(label, "output").increment(outputTokens);
    }
  }

  private Counter subjectTokens(String subject, String kind) {
    return subjectTokens.computeIfAbsent(new Labels(subject, kind, 0), k -> Counter.builder("hive.subject.tokens")
        .tag("subject", subject).tag("kind", kind).description("Tokens by token subject, prompt and output")
        .register(registry));
  }

  /** A site failed a request before its first byte and the request moved on to another site. */
  public void failover(String modelKey, String fromSite) {
    String model = modelLabel(modelKey);
    failovers.computeIfAbsent(new Labels(model, fromSite, 0), k -> Counter.builder("hive.failovers").tag("model", model)
        .tag("site", fromSite).description("Requests moved to another site after this one failed them")
        .register(registry)).increment();
  }

  /** This site's Ollama started answering a relayed request. */
  public void ollamaFirstByte(long nanos) {
    siteFirstByte.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The 99th percentile of this site's Ollama's time to first byte over the last minute or two, in ms. */
  public double ollamaFirstByteP99Ms() {
    var values = siteFirstByte.takeSnapshot().percentileValues();
    return values.length == 0 ? 0 : values[0].value(TimeUnit.MILLISECONDS);
  }

  /** The models loaded at this site's Ollama now: each one that was not before counts as a cold load. */
  public synchronized void loadedNow(Set<String> loaded) {
    if (loadedBefore != null) {
      for (String key : loaded) {
        if (!loadedBefore.contains(key)) {
          String model = modelLabel(key);
          coldLoads.computeIfAbsent(model, m -> Counter.builder("hive.cold.loads").tag("model", m)
              .description("Models this site's Ollama loaded into memory").register(registry)).increment();
        }
      }
    }
    loadedBefore = Set.copyOf(loaded);
  }

  /** Prometheus text of every meter; the per-site gauges follow the view first. */
  public synchronized String scrape() {
    Set<String> sites = new HashSet<>(view.siteNames());
    siteGauges.keySet().removeIf(site -> {
      if (sites.contains(site)) {
        return false;
      }
      for (Meter m : siteGauges.get(site)) {
        registry.remove(m);
      }
      return true;
    });
    for (String site : sites) {
      siteGauges.computeIfAbsent(site, s -> new Meter[] {
          Gauge.builder("hive.site.breaker.state", breakers, b -> b.state(s).ordinal()).tag("site", s)
              .description("This node's circuit breaker for the site: 0 closed, 1 open, 2 half-open").register(registry),
          Gauge.builder("hive.site.up", view, v -> v.isLive(s) ? 1 : 0).tag("site", s)
              .description("1 while the site takes requests (healthy, not draining, inventory known)").register(registry),
          Gauge.builder("hive.site.mesh.inflight", view, v -> {
            var st = v.state(s);
            return st == null ? 0 : st.inflight();
          }).tag("site", s).description("Requests in flight at the site, as it last published").register(registry)});
    }
    return registry.scrape();
  }
}
