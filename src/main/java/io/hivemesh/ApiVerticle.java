package io.hivemesh;

import io.hivemesh.api.ConnectionGuard;
import io.hivemesh.api.HttpApi;
import io.hivemesh.backend.OllamaBackend;
import io.hivemesh.mesh.Dispatcher;
import io.hivemesh.mesh.Inbox;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteBreakers;
import io.hivemesh.observe.ObserveRoutes;
import io.hivemesh.routing.RoutingStrategy;
import io.hivemesh.security.SubjectQuotas;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One event loop's share of a node: its bus inbox, its dispatcher and an HTTP server on the
 * node's port. A request and the bus frames of its stream stay on this loop from start to end.
 */
final class ApiVerticle extends VerticleBase {

  private final NodeConfig config;
  private final int loop;
  private final int port;
  private final MeshView view;
  private final RoutingStrategy strategy;
  private final OllamaBackend backend;
  private final AtomicInteger activeRequests;
  private final SubjectQuotas quotas;
  private final HiveNode node;
  private final SiteBreakers breakers;
  private Inbox inbox;
  private HttpServer server;

  ApiVerticle(NodeConfig config, int loop, int port, MeshView view, RoutingStrategy strategy,
              OllamaBackend backend, AtomicInteger activeRequests, SubjectQuotas quotas, HiveNode node,
              SiteBreakers breakers) {
    this.breakers = breakers;
    this.config = config;
    this.loop = loop;
    this.port = port;
    this.view = view;
    this.strategy = strategy;
    this.backend = backend;
    this.activeRequests = activeRequests;
    this.quotas = quotas;
    this.node = node;
  }

  @Override
  public Future<?> start() {
    inbox = new Inbox(vertx, config, loop, backend, node::draining);
    Dispatcher dispatcher = new Dispatcher(config, view, strategy, backend, inbox, breakers, node.metrics());
    ConnectionGuard guard = new ConnectionGuard(vertx, config, node.clientLimits());
    HttpApi api = new HttpApi(vertx, config, view, dispatcher, activeRequests, quotas, node, node.clientLimits(), guard,
        node.metrics(), new ObserveRoutes(config.name(), node.metrics(), node.meshStatus(), node::notReady));
    // No WebSocket compression: edges never ask for it, and offering it puts an extension handler
    // in front of every HTTP connection's reads and writes.
    HttpServerOptions options = ConnectionGuard.bound(new HttpServerOptions().setHost(config.host()).setPort(port)
        .setTcpNoDelay(true).setCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false), config);
    if (config.tls().https()) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(config.tls().httpCert().toString()).setKeyPath(config.tls().httpKey().toString()));
    }
    server = vertx.createHttpServer(options)
        .connectionHandler(guard::onConnection)
        .requestHandler(api.requestHandler());
    return inbox.start().compose(v -> server.listen());
  }

  @Override
  public Future<?> stop() {
    return server.close().eventually(() -> inbox.stop());
  }

  int actualPort() {
    return server.actualPort();
  }

  Context loopContext() {
    return context;
  }

  Inbox inbox() {
    return inbox;
  }
}
