package io.hivemesh.observe;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.Scrape;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Three nodes with client tokens, as an operator watches them: what /metrics says after known
 * traffic, the probes, /hive/mesh, and the access log (which must never hold a prompt, an answer
 * or a token).
 */
class ObservabilityTest {

  @TempDir
  static Path dir;
  static TestMesh mesh;
  static Vertx vertx;
  static TokenMinter minter;
  static String admin;
  static Events events;

  /** Every event while attached, kept whole so the JSON layout can format it as a node would. */
  static final class Events extends AppenderBase<ILoggingEvent> {
    final List<ILoggingEvent> all = new ArrayList<>();

    @Override
    protected synchronized void append(ILoggingEvent event) {
      event.prepareForDeferredProcessing();
      all.add(event);
    }

    synchronized List<ILoggingEvent> snapshot() {
      return List.copyOf(all);
    }
  }

  @BeforeAll
  static void startMesh() throws Exception {
    events = new Events();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    events.setContext(root.getLoggerContext());
    events.start();
    root.addAppender(events);
    // The access log has an appender of its own (asynchronous) and does not reach the root's.
    ((Logger) LoggerFactory.getLogger(RequestObserver.ACCESS_LOGGER)).addAppender(events);
    vertx = Vertx.vertx();
    Path secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    minter = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret));
    admin = token("ops", "inference models:read admin");
    mesh = new TestMesh();
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(8).withTokensPerSecond(200);
    String[] auth = {"--jwt-secret-file", secret.toString()};
    mesh.add("a", sim.withModels("llama3.2"), auth);
    mesh.add("b", sim.withModels("mistral"), auth);
    mesh.add("c", sim.withModels("phi3"), "--jwt-secret-file", secret.toString(), "--metrics-max-subjects", "2",
        "--metrics-auth", "admin", "--metrics-vertx-http", "true");
    mesh.awaitConverged();
  }

  @AfterAll
  static void stopMesh() {
    if (mesh != null) {
      mesh.close();
    }
    TestMesh.await(vertx.close());
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(events);
    ((Logger) LoggerFactory.getLogger(RequestObserver.ACCESS_LOGGER)).detachAppender(events);
  }

  static String token(String subject, String scope) {
    return minter.mint(new TokenGrant(subject, scope, List.of(), null, null, null, null, Duration.ofHours(1)));
  }

  static Scrape scrape(String node) {
    // c wants an admin token for /metrics; a and b ignore it.
    HttpResponse<String> r = Http.get(mesh.port(node), "/metrics", "Authorization", "Bearer " + admin);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    return new Scrape(r.body());
  }

  /** The final line's eval_count of a native answer, streamed or not. */
  static long evalCount(String body) {
    Matcher m = Pattern.compile("\"eval_count\":(\\d+)").matcher(body);
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    assertTrue(last > 0, "no eval_count in " + body);
    return last;
  }

  @Test
  void metricsCountTheRequestsClientsSent() {
    String alice = token("metrics-alice", "inference models:read");
    long outputTokens = 0;
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r = Http.post(mesh.port("a"), "/api/chat",
          "{\"model\":\"mistral\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":8}}",
          "Authorization", "Bearer " + alice);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("b", r.headers().firstValue("X-Hive-Node").orElse(""));
      outputTokens += evalCount(r.body());
    }
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> r = Http.post(mesh.port("a"), "/api/generate",
          "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":5}}",
          "Authorization", "Bearer " + alice);
      assertEquals(200, r.statusCode(), r.body());
      outputTokens += evalCount(r.body());
    }
    assertEquals(404, Http.post(mesh.port("a"), "/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}",
        "Authorization", "Bearer " + alice).statusCode());

    awaitTrue("a's request counters include the last request", Duration.ofSeconds(10),
        () -> scrape("a").sum("hive_requests_total", "model", "other", "status", "404") == 1);
    Scrape a = scrape("a");
    assertEquals(4, a.sum("hive_requests_total", "node", "a", "endpoint", "/api/chat", "model", "mistral:latest",
        "status", "200"), a.text);
    assertEquals(2, a.sum("hive_requests_total", "endpoint", "/api/generate", "model", "llama3.2:latest", "status", "200"));
    assertEquals(4, a.sum("hive_time_to_first_token_seconds_count", "model", "mistral:latest"));
    assertEquals(4, a.sum("hive_time_to_first_token_seconds_bucket", "model", "mistral:latest", "le", "+Inf"));
    assertEquals(2, a.sum("hive_time_to_first_token_seconds_count", "model", "llama3.2:latest"));
    assertEquals(4, a.sum("hive_request_duration_seconds_count", "endpoint", "/api/chat", "model", "mistral:latest"));
    assertEquals(4, a.sum("hive_output_tokens_per_second_count", "model", "mistral:latest"));
    assertTrue(a.sum("hive_output_tokens_per_second_sum", "model", "mistral:latest") > 0);
    assertEquals(0, a.sum("hive_requests_in_flight", "model", "mistral:latest"));
    // Every request, the refused one included, counts for its subject; tokens as the answers said.
    assertEquals(7, a.sum("hive_subject_requests_total", "subject", "metrics-alice"));
    assertEquals(outputTokens, a.sum("hive_subject_tokens_total", "subject", "metrics-alice", "kind", "output"));
    assertTrue(a.sum("hive_subject_tokens_total", "subject", "metrics-alice", "kind", "prompt") > 0);
    // The serving sites measure their Ollama; b loaded mistral for the first request.
    Scrape b = scrape("b");
    assertTrue(b.sum("hive_site_ollama_first_byte_seconds_count") >= 4, b.text);
    assertEquals(1, b.sum("hive_cold_loads_total", "model", "mistral:latest"), b.text);
    assertEquals(0, b.sum("hive_site_inflight_requests"));
    // b's connections to its Ollama: kept open between answers, none failed; open = opened - closed.
    double connects = b.sum("hive_site_ollama_connects_total", "outcome", "ok");
    assertTrue(connects >= 1, b.text);
    assertTrue(b.sum("hive_site_ollama_connections") >= 1, b.text);
    assertEquals(connects - b.sum("hive_site_ollama_connections_closed_total"), b.sum("hive_site_ollama_connections"));
    assertEquals(0, b.sum("hive_site_ollama_connects_total", "outcome", "failed"), b.text);
    assertTrue(b.text.contains("hive_site_ollama_connections_closed_total{node=\"b\",reason=\"idle\"}"), b.text);
    // The client port's gauges; Vert.x's per-request HTTP meters only when asked for (node c).
    // Gauges whose object was collected read NaN: collect first, so that this cannot pass by luck.
    System.gc();
    Scrape afterGc = scrape("a");
    assertTrue(afterGc.sum("hive_client_connections") >= 1, afterGc.text);
    assertFalse(afterGc.text.contains("hive_client_requests_active{node=\"a\"} NaN"), afterGc.text);
    assertTrue(afterGc.text.contains("hive_client_requests_active{node=\"a\"}"), afterGc.text);
    assertEquals(0, a.sum("vertx_http_server_requests_total"), "Vert.x HTTP meters are off by default");
    assertTrue(scrape("c").sum("vertx_http_server_requests_total") > 0, "--metrics-vertx-http true turns them on");
    assertTrue(a.sum("jvm_memory_used_bytes") > 0, "no JVM meters");
    for (String site : List.of("a", "b", "c")) {
      assertEquals(1, a.sum("hive_site_up", "site", site));
      assertEquals(0, a.sum("hive_site_breaker_state", "site", site));
    }
  }

  @Test
  void labelsStayBoundedWhateverClientsSend() {
    String bob = token("labels-bob", "inference models:read");
    for (int i = 0; i < 20; i++) {
      assertEquals(404, Http.post(mesh.port("a"), "/api/generate", "{\"model\":\"made-up-" + i + "\",\"prompt\":\"x\"}",
          "Authorization", "Bearer " + bob).statusCode());
      assertEquals(404, Http.get(mesh.port("a"), "/random/path/" + i, "Authorization", "Bearer " + bob).statusCode());
    }
    awaitTrue("a counted the made-up models", Duration.ofSeconds(10),
        () -> scrape("a").sum("hive_subject_requests_total", "subject", "labels-bob") == 40);
    Scrape a = scrape("a");
    Set<String> models = a.labelValues("hive_requests_total", "model");
    assertTrue(Set.of("llama3.2:latest", "mistral:latest", "phi3:latest", "other", "none").containsAll(models),
        "model labels beyond the inventory: " + models);
    assertTrue(a.sum("hive_requests_total", "model", "other", "status", "404") >= 20);
    assertTrue(a.sum("hive_requests_total", "endpoint", "other", "status", "404") >= 20);
    assertFalse(a.text.contains("made-up-"), "a client's model name became a label");
    assertFalse(a.text.contains("/random/path"), "a client's path became a label");

    // c labels two subjects by name; every further one counts as "other".
    for (String who : List.of("s1", "s2", "s3", "s4")) {
      assertEquals(200, Http.get(mesh.port("c"), "/api/tags", "Authorization", "Bearer "
          + token(who, "models:read")).statusCode());
    }
    awaitTrue("c counted four subjects", Duration.ofSeconds(10),
        () -> scrape("c").sum("hive_subject_requests_total") >= 4);
    Set<String> subjects = scrape("c").labelValues("hive_subject_requests_total", "subject");
    assertEquals(3, subjects.size(), "subjects: " + subjects);
    assertTrue(subjects.contains("other"), "subjects: " + subjects);
  }

  @Test
  void metricsNeedAnAdminTokenOnlyWhereTheNodeSaysSo() {
    assertEquals(200, Http.get(mesh.port("a"), "/metrics").statusCode());
    assertEquals(401, Http.get(mesh.port("c"), "/metrics").statusCode());
    assertEquals(403, Http.get(mesh.port("c"), "/metrics", "Authorization", "Bearer "
        + token("viewer", "inference models:read")).statusCode());
    assertEquals(200, Http.get(mesh.port("c"), "/metrics", "Authorization", "Bearer " + admin).statusCode());
  }

  @Test
  void probesNeedNoTokenAndTheMeshPageNeedsAdmin() {
    HttpResponse<String> health = Http.get(mesh.port("b"), "/hive/health");
    assertEquals(200, health.statusCode());
    assertEquals("ok", new JsonObject(health.body()).getString("status"));
    HttpResponse<String> ready = Http.get(mesh.port("b"), "/hive/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("ready", new JsonObject(ready.body()).getString("status"));
    HttpResponse<String> page = Http.get(mesh.port("b"), "/hive/ui");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("/hive/mesh"), "the page polls /hive/mesh");

    assertEquals(401, Http.get(mesh.port("b"), "/hive/mesh").statusCode());
    assertEquals(403, Http.get(mesh.port("b"), "/hive/mesh", "Authorization", "Bearer "
        + token("viewer", "inference models:read")).statusCode());
    HttpResponse<String> r = Http.get(mesh.port("b"), "/hive/mesh", "Authorization", "Bearer " + admin);
    assertEquals(200, r.statusCode(), r.body());
    JsonObject meshJson = new JsonObject(r.body());
    assertEquals("b", meshJson.getString("node"));
    JsonArray sites = meshJson.getJsonArray("sites");
    assertEquals(List.of("a", "b", "c"), sites.stream().map(o -> ((JsonObject) o).getString("name")).toList());
    for (Object o : sites) {
      JsonObject site = (JsonObject) o;
      assertEquals("up", site.getString("state"), site.encode());
      assertEquals(1, site.getJsonArray("models").size(), site.encode());
    }
    assertEquals("mistral:latest", sites.getJsonObject(1).getJsonArray("models").getString(0));
    assertTrue(sites.getJsonObject(1).getBoolean("self"));
  }

  @Test
  void theAccessLogNamesEveryRequestButNeverItsContent() {
    String secretPrompt = "the launch code is SECRET-7731-ZULU";
    String carol = token("log-carol", "inference models:read");
    HttpResponse<String> r = Http.post(mesh.port("a"), "/api/chat",
        "{\"model\":\"mistral\",\"messages\":[{\"role\":\"user\",\"content\":\"" + secretPrompt + "\"}],"
            + "\"stream\":false,\"options\":{\"num_predict\":12}}",
        "Authorization", "Bearer " + carol, "X-Request-Id", "req-carol-1");
    assertEquals(200, r.statusCode(), r.body());
    String answer = new JsonObject(r.body()).getJsonObject("message").getString("content");
    assertTrue(answer.length() > 10, answer);

    awaitTrue("a's access log has carol's request", Duration.ofSeconds(10), () -> events.snapshot().stream()
        .anyMatch(e -> e.getLoggerName().equals(RequestObserver.ACCESS_LOGGER) && e.getFormattedMessage().contains("req-carol-1")));
    JsonLogLayout json = new JsonLogLayout();
    json.start();
    JsonObject line = null;
    String signature = carol.substring(carol.lastIndexOf('.') + 1);
    for (ILoggingEvent e : events.snapshot()) {
      String text = json.doLayout(e);
      assertTrue(text.endsWith("}\n") && text.indexOf('\n') == text.length() - 1, "not one line: " + text);
      JsonObject parsed = new JsonObject(text);
      for (String s : List.of(e.getFormattedMessage(), text)) {
        assertFalse(s.contains("SECRET-7731"), "a log line holds the prompt: " + s);
        assertFalse(s.contains(answer), "a log line holds the answer: " + s);
        assertFalse(s.contains(signature), "a log line holds the token: " + s);
      }
      if (e.getLoggerName().equals(RequestObserver.ACCESS_LOGGER) && "req-carol-1".equals(parsed.getString("request_id"))) {
        line = parsed;
      }
    }
    assertTrue(line != null);
    assertEquals("INFO", line.getString("level"));
    assertEquals("POST", line.getString("method"));
    assertEquals("/api/chat", line.getString("path"));
    assertEquals(200, line.getInteger("status"));
    assertEquals("mistral:latest", line.getString("model"));
    assertEquals("b", line.getString("site"));
    assertEquals("a", line.getString("node"));
    assertEquals("log-carol", line.getString("subject"));
    assertTrue(line.getLong("duration_ms") >= 0 && line.getLong("ttft_ms") >= 0, line.encode());
    assertEquals(evalCount(r.body()), line.getLong("output_tokens"));
    assertTrue(line.getString("time").endsWith("Z"), line.getString("time"));
  }

  @Test
  void theGrafanaDashboardUsesOnlyExportedMetrics() throws Exception {
    // Traffic that makes each site's meters appear, then every metric any node exports.
    String dave = token("dash-dave", "inference models:read");
    for (String model : List.of("llama3.2", "mistral", "phi3")) {
      assertEquals(200, Http.post(mesh.port("c"), "/api/generate", "{\"model\":\"" + model
          + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":3}}", "Authorization", "Bearer " + dave)
          .statusCode());
    }
    awaitTrue("c counted dave's requests", Duration.ofSeconds(10),
        () -> scrape("c").sum("hive_subject_requests_total") >= 3);
    Set<String> exported = new TreeSet<>();
    for (String node : List.of("a", "b", "c")) {
      Scrape scraped = scrape(node);
      exported.addAll(scraped.names());
      // Kept for whoever reads the build: what a scraper got from each node of a 3-node mesh.
      Files.createDirectories(Path.of("target"));
      Files.writeString(Path.of("target/metrics-" + node + ".txt"), scraped.text);
    }
    JsonObject dashboard = new JsonObject(Files.readString(Path.of("docs/grafana/hive-mesh.json")));
    Set<String> used = new TreeSet<>();
    collectExprs(dashboard, used);
    assertTrue(used.size() >= 8, "the dashboard queries few metrics: " + used);
    Set<String> missing = new TreeSet<>(used);
    missing.removeAll(exported);
    // Failovers appear only once a site failed a request: FailoverMetricsTest sees them.
    missing.remove("hive_failovers_total");
    assertTrue(missing.isEmpty(), "the dashboard queries metrics no node exports: " + missing);
  }

  private static final Pattern METRIC = Pattern.compile("\\b((?:hive|vertx|jvm|process)_[a-z0-9_]+)\\b");

  private static void collectExprs(Object node, Set<String> out) {
    if (node instanceof JsonObject o) {
      for (String k : o.fieldNames()) {
        Object v = o.getValue(k);
        if (k.equals("expr") && v instanceof String expr) {
          Matcher m = METRIC.matcher(expr);
          while (m.find()) {
            out.add(m.group(1));
          }
        } else {
          collectExprs(v, out);
        }
      }
    } else if (node instanceof JsonArray a) {
      a.forEach(v -> collectExprs(v, out));
    }
  }
}
