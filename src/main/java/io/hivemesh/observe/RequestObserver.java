package io.hivemesh.observe;

import io.hivemesh.security.Caller;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts every request's {@link RequestTrace} and, when the response has ended, records its
 * meters and writes its access-log line. The line names the
 * request, never its content: no prompt, no answer, no header values but the request id.
 */
public final class RequestObserver {

  /** Logger of the access log: one line per request at INFO. */
  public static final String ACCESS_LOGGER = "io.hivemesh.access";
  private static final Logger access = LoggerFactory.getLogger(ACCESS_LOGGER);
  public static final String REQUEST_ID_HEADER = "X-Request-Id";
  private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized(REQUEST_ID_HEADER);
  /** Paths a load balancer, Prometheus or the page hit every few seconds: counted, not logged. */
  private static final Set<String> QUIET = Set.of("/hive/health", "/hive/ready", "/metrics", "/hive/mesh");
  private static final Set<String> ENDPOINTS = Set.of("/", "/api/version", "/api/tags", "/api/ps", "/api/generate",
      "/api/chat", "/api/embed", "/api/embeddings", "/api/show", "/api/pull", "/api/push", "/api/create",
      "/api/copy", "/api/delete", "/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings",
      "/hive/nodes", "/hive/drain", "/hive/health", "/hive/ready", "/hive/mesh", "/hive/ui", "/metrics");

  private final MeshMetrics metrics;
  private final String site;

  public RequestObserver(MeshMetrics metrics, String site) {
    this.metrics = metrics;
    this.site = site;
  }

  /** A request's headers are in; {@link #finish} is for when its response has ended. */
  public RequestTrace begin(HttpServerRequest request) {
    return new RequestTrace(requestId(request.getHeader(REQUEST_ID)), endpoint(request.path()));
  }

  /** Which model the request is for, once its body says so. */
  public void model(RequestTrace trace, String modelKey) {
    if (trace.modelKey == null) {
      trace.modelKey = modelKey;
      trace.model = metrics.modelLabel(modelKey);
      metrics.started(trace.model);
    }
  }

  /** Records the ended request; {@code who} is null when it was refused before it was authenticated. */
  public void finish(RequestTrace trace, HttpServerRequest request, Caller who) {
    long end = System.nanoTime();
    int status = request.response().getStatusCode();
    if (trace.modelKey != null) {
      metrics.ended(trace.model);
    }
    metrics.request(trace.endpoint, trace.model, status);
    metrics.total(trace.endpoint, trace.model, end - trace.startNanos);
    AnswerUsage.Counts counts = trace.modelKey == null || trace.bytesOut == 0 ? null : trace.usage.counts();
    if (trace.firstByteNanos >= 0 && trace.modelKey != null && status < 300) {
      metrics.firstToken(trace.model, trace.firstByteNanos - trace.startNanos);
      if (counts.tokensPerSecond() > 0) {
        metrics.tokensPerSecond(trace.model, counts.tokensPerSecond());
      }
    }
    if (who != null) {
      metrics.subject(who.subject(), counts == null ? 0 : counts.promptTokens(), counts == null ? 0 : counts.outputTokens());
    }
    if (QUIET.contains(trace.endpoint) || !access.isInfoEnabled()) {
      return;
    }
    long ms = (end - trace.startNanos) / 1_000_000;
    long ttftMs = trace.firstByteNanos < 0 ? -1 : (trace.firstByteNanos - trace.startNanos) / 1_000_000;
    String path = ENDPOINTS.contains(request.path()) ? request.path() : trace.endpoint;
    access.atInfo()
        .addKeyValue("request_id", trace.id)
        .addKeyValue("method", request.method().name())
        .addKeyValue("path", path)
        .addKeyValue("status", status)
        .addKeyValue("model", trace.model)
        .addKeyValue("site", trace.site)
        .addKeyValue("node", site)
        .addKeyValue("subject", who == null ? null : who.subject())
        .addKeyValue("duration_ms", ms)
        .addKeyValue("ttft_ms", ttftMs < 0 ? null : ttftMs)
        .addKeyValue("bytes_out", trace.bytesOut)
        .addKeyValue("output_tokens", counts == null || counts.outputTokens() < 0 ? null : counts.outputTokens())
        .log("{} {} {} model={} site={} {} ms ttft={} ms id={}", request.method().name(), path, status, trace.model, trace.site == null ? "-" : trace.site,
            ms, ttftMs < 0 ? "-" : ttftMs, trace.id);
  }

  /** The route a path is counted under: a fixed set, so a scan of random paths adds no series. */
  static String endpoint(String path) {
    if (path == null) {
      return "other";
    }
    if (ENDPOINTS.contains(path)) {
      return path;
    }
    if (path.startsWith("/api/blobs/")) {
      return "/api/blobs";
    }
    if (path.startsWith("/v1/models/")) {
      return "/v1/models/:model";
    }
    if (path.startsWith("/hive/ui/")) {
      return "/hive/ui";
    }
    return "other";
  }

  /** The client's request id when it is a plain token of at most 64 characters, else a new one. */
  static String requestId(String given) {
    if (given != null && given.length() <= 64 && !given.isEmpty() && given.chars().allMatch(c ->
        c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.'))) {
      return given;
    }
    return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
  }
}
