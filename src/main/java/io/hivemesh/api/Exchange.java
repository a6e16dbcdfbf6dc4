package io.hivemesh.api;

import io.hivemesh.observe.RequestTrace;
import io.hivemesh.security.Caller;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request inside the node: what its checks have learnt (the caller, the body) and what
 * must happen when its answer ends. It is the same object whether the request came through the
 * router or straight to an inference {@link Pipeline}. Lives on the request's event loop only.
 */
final class Exchange {

  private static final Logger log = LoggerFactory.getLogger(Exchange.class);
  private static final String KEY = "hive.exchange";

  final HttpServerRequest request;
  final HttpServerResponse response;
  final RequestTrace trace;
  final boolean openAi;
  /** Who is calling, once authenticated. */
  Caller caller;
  /** The request's body, once read. */
  Buffer body;
  private final List<Runnable> endActions = new ArrayList<>(6);
  private boolean ended;

  Exchange(HttpServerRequest request, RequestTrace trace) {
    this.request = request;
    this.response = request.response();
    this.trace = trace;
    this.openAi = HttpApi.isOpenAi(request);
    // Vert.x calls it once: when the response has been written, or when the connection closed before.
    response.endHandler(v -> end());
  }

  static Exchange of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  void attach(RoutingContext ctx) {
    ctx.put(KEY, this);
  }

  /** Runs {@code action} when the answer has ended or the client has gone, latest first; at once if that has happened. */
  void atEnd(Runnable action) {
    if (ended) {
      action.run();
    } else {
      endActions.add(action);
    }
  }

  private void end() {
    ended = true;
    for (int i = endActions.size() - 1; i >= 0; i--) {
      try {
        endActions.get(i).run();
      } catch (RuntimeException e) {
        log.error("a request's end action failed", e);
      }
    }
    endActions.clear();
  }

  /** A failure no check foresaw: logged with its stack, answered 500 in Ollama's shape. */
  void fail(Throwable failure) {
    internalError(request, failure);
  }

  static void internalError(HttpServerRequest request, Throwable failure) {
    log.error("unexpected failure on {} {}", request.method(), request.path(), failure);
    HttpServerResponse out = request.response();
    if (out.headWritten()) {
      // Mid-answer: the client can only learn of it by the connection closing.
      request.connection().close();
    } else {
      OllamaErrors.send(out, 500, "internal error in the mesh node", HttpApi.isOpenAi(request));
    }
  }
}
