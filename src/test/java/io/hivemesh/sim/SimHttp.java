package io.hivemesh.sim;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** A small HTTP client for sim tests: whole replies with per-line arrival times, blocking helpers. */
final class SimHttp {

  /** A finished (or cut) response. Times are System.nanoTime values. */
  record Reply(int status, MultiMap headers, String body, List<String> lines, List<Long> lineNanos, long sentNanos,
      long headNanos, long endNanos) {

    String header(String name) {
      return headers.get(name);
    }

    JsonObject json() {
      return new JsonObject(body);
    }

    List<JsonObject> jsonLines() {
      return lines.stream().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    }

    /** The JSON payloads of SSE {@code data:} events, {@code [DONE]} excluded. */
    List<JsonObject> events() {
      return lines.stream().filter(l -> l.startsWith("data: ") && !l.equals("data: [DONE]"))
          .map(l -> new JsonObject(l.substring(6))).toList();
    }

    long headMillis() {
      return (headNanos - sentNanos) / 1_000_000;
    }
  }

  final Vertx vertx;
  final HttpClientAgent client;
  final int port;

  SimHttp(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
  }

  Future<Reply> send(HttpMethod method, String path, String body) {
    return send(method, path, body, Map.of(), r -> { });
  }

  /**
   * Sends a request; {@code onHead} sees the response as soon as its head arrives (for tests that
   * cut the connection).
   */
  Future<Reply> send(HttpMethod method, String path, String body, Map<String, String> headers,
      Consumer<HttpClientResponse> onHead) {
    Promise<Reply> done = Promise.promise();
    long sent = System.nanoTime();
    RequestOptions ro = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
    headers.forEach(ro::putHeader);
    // Handlers go on the response as its head arrives, on the client's event loop: registered later
    // from this thread, they could miss a body that is already there.
    client.request(ro).onComplete(ar -> {
      if (ar.failed()) {
        done.tryFail(ar.cause());
        return;
      }
      HttpClientRequest req = ar.result();
      req.response().onFailure(done::tryFail).onSuccess(resp -> {
        long head = System.nanoTime();
        StringBuilder text = new StringBuilder();
        List<String> lines = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        StringBuilder partial = new StringBuilder();
        resp.handler(buf -> {
          long now = System.nanoTime();
          String s = buf.toString();
          text.append(s);
          for (char c : s.toCharArray()) {
            if (c == '\n') {
              lines.add(partial.toString());
              times.add(now);
              partial.setLength(0);
            } else {
              partial.append(c);
            }
          }
        });
        resp.exceptionHandler(done::tryFail);
        resp.endHandler(v -> {
          if (partial.length() > 0) {
            lines.add(partial.toString());
            times.add(System.nanoTime());
          }
          done.tryComplete(new Reply(resp.statusCode(), resp.headers(), text.toString(), lines, times, sent, head,
              System.nanoTime()));
        });
        onHead.accept(resp);
      });
      if (body == null) {
        req.end();
      } else {
        req.end(Buffer.buffer(body));
      }
    });
    return done.future();
  }

  Reply call(HttpMethod method, String path, String body) {
    return await(send(method, path, body));
  }

  Reply get(String path) {
    return call(HttpMethod.GET, path, null);
  }

  Reply post(String path, String body) {
    return call(HttpMethod.POST, path, body);
  }

  Reply post(String path, JsonObject body) {
    return call(HttpMethod.POST, path, body.encode());
  }

  static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static void awaitTrue(String what, BooleanSupplier condition) {
    awaitTrue(what, Duration.ofSeconds(10), condition);
  }

  static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static OllamaSim start(Vertx vertx, SimOptions options) {
    return await(OllamaSim.start(vertx, options.withPort(0)));
  }

  /** Defaults for tests: fast, no load delay, two small models. */
  static SimOptions fast() {
    return SimOptions.defaults().withPort(0).withModels("llama3.2", "nomic-embed-text").withLoadMs(0)
        .withTokensPerSecond(0);
  }
}
