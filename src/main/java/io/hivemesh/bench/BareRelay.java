package io.hivemesh.bench;

import io.hivemesh.NetworkTransport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * A reference peer for the overhead scenario, not part of the mesh: the least a relay on Vert.x's
 * HTTP server and client can do (one event loop, the node's transport and JVM flags, body read, one
 * pooled request to the backend, the answer piped back chunk by chunk) with no routing, security,
 * limits or metrics. The gap between it and nginx is the framework's. The node's relay to Ollama
 * does without the Vert.x client (its own connections, {@code OllamaConnections}), so the node can
 * cost less than this relay on its client side while it pays for the mesh's own work. Run by {@link Rig} as {@code BareRelay PORT HOST:PORT}.
 */
public final class BareRelay {

  private BareRelay() {
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    String host = args[1].substring(0, args[1].lastIndexOf(':'));
    int backendPort = Integer.parseInt(args[1].substring(args[1].lastIndexOf(':') + 1));
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1))
        .withTransport(NetworkTransport.choose(NetworkTransport.AUTO)).build();
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(256));
    vertx.createHttpServer().requestHandler(req -> relay(req, client, host, backendPort))
        .listen(port, "127.0.0.1")
        .onSuccess(s -> System.out.println("bare relay on " + port + " to " + args[1]))
        .onFailure(err -> {
          System.err.println("bare relay: " + err.getMessage());
          System.exit(1);
        });
  }

  private static void relay(HttpServerRequest req, HttpClient client, String host, int port) {
    HttpServerResponse out = req.response();
    req.body()
        .compose(body -> client.request(new RequestOptions().setMethod(req.method()).setHost(host).setPort(port)
                .setURI(req.uri()))
            .compose(creq -> {
              String type = req.getHeader("Content-Type");
              if (type != null) {
                creq.putHeader("Content-Type", type);
              }
              return creq.send(body);
            }))
        .onSuccess(resp -> pipe(resp, out))
        .onFailure(err -> {
          if (!out.headWritten()) {
            out.setStatusCode(502).end();
          }
        });
  }

  private static void pipe(HttpClientResponse resp, HttpServerResponse out) {
    out.setStatusCode(resp.statusCode());
    String type = resp.getHeader("Content-Type");
    if (type != null) {
      out.putHeader("Content-Type", type);
    }
    String length = resp.getHeader("Content-Length");
    if (length != null) {
      out.putHeader("Content-Length", length);
    } else {
      out.setChunked(true);
    }
    resp.pipeTo(out);
  }
}
