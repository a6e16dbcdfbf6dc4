package io.hivemesh.backend;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/** An answer from this site's own Ollama, relayed from its HTTP response. */
final class LocalResponse implements RelayResponse {

  /** Hop-by-hop headers (RFC 9110 section 7.6.1) never travel past a proxy. */
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
      "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");

  private final String site;
  private final HttpClientRequest request;
  private final HttpClientResponse response;
  private final OllamaBackend.Release release;
  private final MultiMap headers;
  private boolean done;

  LocalResponse(String site, HttpClientRequest request, HttpClientResponse response, OllamaBackend.Release release) {
    this.site = site;
    this.request = request;
    this.response = response;
    this.release = release;
    this.headers = MultiMap.caseInsensitiveMultiMap();
    response.headers().forEach((k, v) -> {
      if (!HOP_BY_HOP.contains(k.toLowerCase())) {
        headers.add(k, v);
      }
    });
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
    response.handler(sink::write);
    response.endHandler(v -> {
      if (!done) {
        done = true;
        release.run();
        sink.end();
      }
    });
    response.exceptionHandler(err -> {
      if (!done) {
        done = true;
        release.run();
        sink.fail(err instanceof TimeoutException
            ? "site '" + site + "': the model stopped producing output"
            : "site '" + site + "': connection to Ollama lost mid-stream");
      }
    });
    response.resume();
  }

  @Override
  public void pause() {
    response.pause();
  }

  @Override
  public void resume() {
    response.resume();
  }

  @Override
  public void cancel() {
    if (!done) {
      done = true;
      release.run();
      // Closing the connection is how Ollama learns the client is gone: it stops generating.
      request.reset();
    }
  }
}
