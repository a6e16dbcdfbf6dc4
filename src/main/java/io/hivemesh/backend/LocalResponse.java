package io.hivemesh.backend;

import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.LoopSweep;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * An answer from this site's own Ollama, relayed from its HTTP response. Its silence limit is
 * checked by its event loop's sweep ({@link LoopSweep}), which it leaves when it ends: an idle
 * timeout set on the Vert.x request after the head outlives the answer (nothing cancels it at the
 * end), and with it the whole request, for the length of the limit.
 */
final class LocalResponse extends LoopSweep.Entry implements RelayResponse {

  private static final String SWEEP = "hive.answer-silences";

  /** Hop-by-hop headers (RFC 9110 section 7.6.1) never travel past a proxy. */
  private static final List<String> HOP_BY_HOP = List.of("connection", "keep-alive", "transfer-encoding", "te",
      "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");

  private final String site;
  private final HttpClientRequest request;
  private final HttpClientResponse response;
  private final OllamaBackend.Release release;
  private final SiteSpeed speed;
  private final String modelKey;
  private final MultiMap headers;
  private final Vertx vertx;
  private final long idleMs;
  private boolean done;
  private boolean paused;
  private long lastData;
  private BodySink sink;
  /** Ollama's final statistics line, once the answer has ended: what {@link SiteSpeed} learns from. */
  private Buffer lastChunk;

  LocalResponse(Vertx vertx, long idleMs, String site, HttpClientRequest request, HttpClientResponse response,
                OllamaBackend.Release release, SiteSpeed speed, String modelKey) {
    this.speed = speed;
    this.modelKey = modelKey;
    this.vertx = vertx;
    this.idleMs = idleMs;
    this.site = site;
    this.request = request;
    this.response = response;
    this.release = release;
    this.headers = MultiMap.caseInsensitiveMultiMap();
    response.headers().forEach((k, v) -> {
      if (!isHopByHop(k)) {
        headers.add(k, v);
      }
    });
  }

  /** Compared in place: lower-casing every header name of every answer would be a string each. */
  private static boolean isHopByHop(String name) {
    for (String h : HOP_BY_HOP) {
      if (h.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public int status() {
    return response.statusCode();
  }

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public String site() {
    return site;
  }

  @Override
  public void start(BodySink sink) {
    this.sink = sink;
    lastData = System.nanoTime();
    LoopSweep.current(vertx, SWEEP, idleMs / 10).enter(this);
    response.handler(chunk -> {
      lastData = System.nanoTime();
      lastChunk = chunk;
      sink.write(chunk);
    });
    response.endHandler(v -> {
      if (lastChunk != null && response.statusCode() == 200) {
        speed.answered(modelKey, lastChunk);
      }
      if (finish()) {
        sink.end();
      }
    });
    response.exceptionHandler(err -> {
      if (finish()) {
        sink.fail(err instanceof TimeoutException
            ? "site '" + site + "': the model stopped producing output"
            : "site '" + site + "': connection to Ollama lost mid-stream");
      }
    });
    response.resume();
  }

  /** Silence while the client is keeping up means the model stopped; while it is paused it does not count. */
  @Override
  protected void check(long now) {
    if (done || paused || now - lastData < idleMs * 1_000_000) {
      return;
    }
    if (finish()) {
      request.reset(0, new TimeoutException("no output for " + idleMs + " ms"));
      sink.fail("site '" + site + "': the model stopped producing output");
    }
  }

  /** Ends the answer once: gives its place back and leaves the sweep; false if it had ended already. */
  private boolean finish() {
    if (done) {
      return false;
    }
    done = true;
    release.run();
    leave();
    return true;
  }

  @Override
  public void pause() {
    paused = true;
    response.pause();
  }

  @Override
  public void resume() {
    paused = false;
    lastData = System.nanoTime();
    response.resume();
  }

  @Override
  public void cancel() {
    if (finish()) {
      // Closing the connection is how Ollama learns the client is gone: it stops generating.
      request.reset();
    }
  }
}
