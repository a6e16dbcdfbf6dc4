package io.hivemesh.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

/**
 * An Ollama that misbehaves on purpose: a pass-through to a real sim whose inference answers can
 * be made to hang before their first byte, or to go silent after it. Health probes always pass,
 * which is exactly what makes these faults hard: the site looks fine.
 */
public final class FaultyOllama {

  /**
   * {@code HANG_BEFORE_HEAD}: inference requests are accepted and never answered, the rest passes;
   * {@code HANG}: every request, health probes included, is accepted and never answered.
   */
  public enum Fault { NONE, HANG_BEFORE_HEAD, HANG, SILENT_MID_STREAM, ERROR_500 }

  private final HttpServer server;
  private volatile Fault fault = Fault.NONE;
  private volatile String lastInferenceBodySha256 = "";
  private final java.util.concurrent.atomic.AtomicInteger inferenceRequests = new java.util.concurrent.atomic.AtomicInteger();

  private FaultyOllama(HttpServer server) {
    this.server = server;
  }

  public static Future<FaultyOllama> start(Vertx vertx, String simUrl) {
    java.net.URI target = java.net.URI.create(simUrl);
    HttpClient client = vertx.createHttpClient();
    FaultyOllama[] self = new FaultyOllama[1];
    HttpServer server = vertx.createHttpServer().requestHandler(req -> self[0].handle(req, client, target));
    self[0] = new FaultyOllama(server);
    return server.listen(0, "127.0.0.1").map(s -> self[0]);
  }

  public void fault(Fault f) {
    this.fault = f;
  }

  /** Generate and chat requests that reached it (a hung one included once it is answered or not). */
  public int inferenceRequests() {
    return inferenceRequests.get();
  }

  /** SHA-256 (hex) of the body of the last generate or chat request that reached it, for relay integrity. */
  public String lastInferenceBodySha256() {
    return lastInferenceBodySha256;
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpServerRequest req, HttpClient client, java.net.URI target) {
    boolean inference = req.path().startsWith("/api/generate") || req.path().startsWith("/api/chat");
    Fault now = inference || fault == Fault.HANG ? fault : Fault.NONE;
    if (inference) {
      inferenceRequests.incrementAndGet();
    }
    if (now == Fault.HANG || now == Fault.HANG_BEFORE_HEAD) {
      return; // accepts the request, never answers
    }
    if (now == Fault.ERROR_500) {
      req.response().setStatusCode(500).putHeader("Content-Type", "application/json; charset=utf-8")
          .end("{\"error\":\"llama runner process has terminated: exit status 2\"}");
      return;
    }
    req.body().compose(body -> {
      if (inference) {
        lastInferenceBodySha256 = sha256(body.getBytes());
      }
      return Future.succeededFuture(body);
    }).compose(body -> client.request(new RequestOptions().setMethod(req.method())
            .setHost(target.getHost()).setPort(target.getPort()).setURI(req.uri()))
        .compose(creq -> {
          req.headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
              creq.putHeader(k, v);
            }
          });
          return creq.send(body);
        }))
        .onSuccess(resp -> {
          req.response().setStatusCode(resp.statusCode()).headers().addAll(resp.headers());
          boolean[] first = {true};
          resp.handler(chunk -> {
            if (now == Fault.SILENT_MID_STREAM && !first[0]) {
              return; // the connection stays open, nothing more comes
            }
            first[0] = false;
            req.response().write(chunk);
          });
          resp.endHandler(v -> {
            if (now != Fault.SILENT_MID_STREAM) {
              req.response().end();
            }
          });
        })
        .onFailure(err -> req.response().setStatusCode(502).end());
  }
}
