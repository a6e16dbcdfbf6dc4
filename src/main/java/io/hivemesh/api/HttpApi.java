package io.hivemesh.api;

import io.hivemesh.NodeConfig;
import io.hivemesh.edge.EdgeProtocol;
import io.hivemesh.mesh.Dispatcher;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.NoSiteException;
import io.hivemesh.model.ModelName;
import io.hivemesh.observe.MeshMetrics;
import io.hivemesh.observe.ObserveRoutes;
import io.hivemesh.observe.RequestObserver;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.security.AuthException;
import io.hivemesh.security.Scope;
import io.hivemesh.security.SubjectQuotas;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's Ollama-compatible HTTP surface. Inference is relayed to a site that holds the model;
 * listings are answered from the mesh view; model management goes to the site named in
 * {@code X-Hive-Node}.
 */
public final class HttpApi {

  public static final String NODE_HEADER = "X-Hive-Node";
  /** {@link #NODE_HEADER} as a header map looks it up without hashing it again. */
  static final CharSequence NODE_HEADER_NAME = HttpHeaders.createOptimized(NODE_HEADER);
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  private static final String JSON = "application/json; charset=utf-8";

  private final Vertx vertx;
  private final NodeConfig config;
  private final MeshView view;
  private final Dispatcher dispatcher;
  private final AtomicInteger activeRequests;
  private final AccessControl access;
  private final NodeControl node;

  private final ConnectionGuard guard;
  private final BodyReader body;
  private final RequestObserver observer;
  private final ObserveRoutes observe;

  public HttpApi(Vertx vertx, NodeConfig config, MeshView view, Dispatcher dispatcher, AtomicInteger activeRequests,
                 SubjectQuotas quotas, NodeControl node, ClientLimits limits, ConnectionGuard guard,
                 MeshMetrics metrics, ObserveRoutes observe) {
    this.vertx = vertx;
    this.observer = new RequestObserver(metrics, config.name());
    this.observe = observe;
    this.guard = guard;
    this.body = new BodyReader(vertx, config, limits);
    this.node = node;
    this.access = new AccessControl(vertx, config.auth(), quotas);
    this.config = config;
    this.view = view;
    this.dispatcher = dispatcher;
    this.activeRequests = activeRequests;
  }

  /** A relayed route: how it names a missing or unknown model. */
  private enum Inference {
    GENERATE(Scope.INFERENCE, false, 404, "model '' not found", "model '%s' not found"),
    CHAT(Scope.INFERENCE, false, 400, "model is required", "model '%s' not found"),
    EMBED(Scope.INFERENCE, false, 400, "model is required", "model '%s' not found"),
    EMBEDDINGS(Scope.INFERENCE, false, 400, "model is required", "model \"%s\" not found, try pulling it first"),
    SHOW(Scope.MODELS_READ, false, 400, "model is required", "model '%s' not found"),
    OPENAI(Scope.INFERENCE, true, 400, "model is required", "model \"%s\" not found, try pulling it first"),
    /** Model management names its site, not a model: only the site can be missing. */
    MANAGE(Scope.ADMIN, false, 400, "model is required", "model '%s' not found");

    final Scope scope;
    final boolean openAi;
    final int missingStatus;
    final String missingMessage;
    final String notFound;

    Inference(Scope scope, boolean openAi, int missingStatus, String missingMessage, String notFound) {
      this.scope = scope;
      this.openAi = openAi;
      this.missingStatus = missingStatus;
      this.missingMessage = missingMessage;
      this.notFound = notFound;
    }
  }

  /** The relayed routes by path: the server's request handler sends these straight to their pipelines. */
  private static final Map<String, Inference> INFERENCE_ROUTES = Map.of(
      "/api/generate", Inference.GENERATE,
      "/api/chat", Inference.CHAT,
      "/api/embed", Inference.EMBED,
      "/api/embeddings", Inference.EMBEDDINGS,
      "/api/show", Inference.SHOW,
      "/v1/chat/completions", Inference.OPENAI,
      "/v1/completions", Inference.OPENAI,
      "/v1/embeddings", Inference.OPENAI);

  /**
   * The server's request handler. An inference request, the hot path, goes straight to its
   * {@link Pipeline}; everything else, and any request the router would turn away itself (no valid
   * {@code Host}, a path that is not plain), goes through the router, which runs the same steps.
   */
  public Handler<HttpServerRequest> requestHandler() {
    Router router = router();
    Map<String, Pipeline> direct = new HashMap<>();
    INFERENCE_ROUTES.forEach((path, kind) -> direct.put(path, new Pipeline(withAuthentication(inferenceSteps(kind)))));
    return req -> {
      Pipeline pipeline = req.method() == HttpMethod.POST ? direct.get(req.path()) : null;
      if (pipeline == null || (req.authority() == null && req.version() != HttpVersion.HTTP_1_0)) {
        router.handle(req);
      } else {
        pipeline.run(begin(req));
      }
    };
  }

  /** Every request's start, on either path: its trace, and its connection marked busy until the answer ends. */
  private Exchange begin(HttpServerRequest req) {
    Exchange x = new Exchange(req, observer.begin(req));
    guard.onRequest(x);
    x.atEnd(() -> observer.finish(x.trace, req, x.caller));
    return x;
  }

  Router router() {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      begin(ctx.request()).attach(ctx);
      ctx.next();
    });
    // Probes, the page and (unless metrics-auth says admin) Prometheus need no token.
    router.route(HttpMethod.GET, "/hive/health").handler(observe::health);
    router.route(HttpMethod.GET, "/hive/ready").handler(observe::ready);
    router.route(HttpMethod.GET, "/hive/ui").handler(observe::page);
    if (!config.metricsNeedAdmin()) {
      router.route(HttpMethod.GET, "/metrics").handler(observe::metrics);
    }
    // The liveness line clients probe before anything else says nothing about the mesh: no token needed.
    router.route(HttpMethod.GET, "/").handler(this::root);
    router.route(HttpMethod.HEAD, "/").handler(this::root);
    // The token check may finish on a later turn of the loop: the upgrade needs the request unread.
    router.route(HttpMethod.GET, EdgeProtocol.PATH).handler(ctx -> {
      ctx.request().pause();
      ctx.next();
    });
    router.route().handler(step(access::authenticate));
    router.route(HttpMethod.GET, EdgeProtocol.PATH).handler(step(AccessControl.require(Scope.EDGE)))
        .handler(node::attachEdge);
    router.route(HttpMethod.GET, "/api/version").handler(this::version);
    router.route(HttpMethod.HEAD, "/api/version").handler(this::version);
    Handler<RoutingContext> read = step(AccessControl.require(Scope.MODELS_READ));
    router.route(HttpMethod.GET, "/api/tags").handler(read).handler(ctx -> json(ctx, catalog(ctx).tags()));
    router.route(HttpMethod.HEAD, "/api/tags").handler(read).handler(ctx -> json(ctx, catalog(ctx).tags()));
    router.route(HttpMethod.GET, "/api/ps").handler(read).handler(ctx -> json(ctx, catalog(ctx).ps()));
    router.route(HttpMethod.GET, "/v1/models").handler(read).handler(ctx -> json(ctx, catalog(ctx).openAiModels()));
    router.route(HttpMethod.GET, "/v1/models/:model").handler(read).handler(this::openAiModel);
    Handler<RoutingContext> admin = step(AccessControl.require(Scope.ADMIN));
    router.route(HttpMethod.GET, "/hive/nodes").handler(admin).handler(ctx -> json(ctx, view.nodesJson().toBuffer()));
    router.route(HttpMethod.POST, "/hive/drain").handler(admin).handler(this::drain);
    router.route(HttpMethod.GET, "/hive/mesh").handler(admin).handler(observe::mesh);
    if (config.metricsNeedAdmin()) {
      router.route(HttpMethod.GET, "/metrics").handler(admin).handler(observe::metrics);
    }

    INFERENCE_ROUTES.forEach((path, kind) -> {
      Pipeline pipeline = new Pipeline(inferenceSteps(kind));
      router.route(HttpMethod.POST, path).handler(ctx -> pipeline.run(Exchange.of(ctx)));
    });

    Pipeline manage = new Pipeline(AccessControl.require(Scope.ADMIN), access::withinQuota, body, this::manage);
    for (String path : new String[] {"/api/pull", "/api/push", "/api/create", "/api/copy", "/api/blobs/:digest"}) {
      router.route(HttpMethod.POST, path).handler(ctx -> manage.run(Exchange.of(ctx)));
    }
    router.route(HttpMethod.DELETE, "/api/delete").handler(ctx -> manage.run(Exchange.of(ctx)));
    Pipeline probeBlob = new Pipeline(AccessControl.require(Scope.ADMIN), this::manage);
    router.route(HttpMethod.HEAD, "/api/blobs/:digest").handler(ctx -> probeBlob.run(Exchange.of(ctx)));

    router.errorHandler(404, ctx -> plain(ctx.response(), 404, "404 page not found"));
    router.errorHandler(405, ctx -> plain(ctx.response(), 405, "405 method not allowed"));
    // Reached by a path Vert.x Web cannot decode (an invalid percent escape): without a handler it
    // logs an ERROR with a stack trace for each such request, a log any client could flood.
    router.errorHandler(400, ctx -> OllamaErrors.send(ctx.response(), 400, "invalid request: "
        + (ctx.failure() == null ? "malformed" : ctx.failure().getMessage()), isOpenAi(ctx.request())));
    router.errorHandler(500, ctx -> Exchange.internalError(ctx.request(), ctx.failure()));
    return router;
  }

  /** A pipeline step as a route handler: the router's {@code next} is the step's. */
  private static Handler<RoutingContext> step(Pipeline.Step step) {
    return ctx -> step.run(Exchange.of(ctx), ctx::next);
  }

  /**
   * Checks that cost nothing come before the body is read, so a refusal buffers no bytes; the
   * node's admission comes after it, so a slow upload holds no place a ready request could use.
   * A slow upload does hold its subject's quota permit: that limits only the caller itself.
   */
  private Pipeline.Step[] inferenceSteps(Inference kind) {
    return new Pipeline.Step[] {this::refuseUnlessServing, AccessControl.require(kind.scope), access::withinQuota,
        body, this::admit, (x, next) -> infer(x, kind)};
  }

  private Pipeline.Step[] withAuthentication(Pipeline.Step[] steps) {
    Pipeline.Step[] all = new Pipeline.Step[steps.length + 1];
    all[0] = access::authenticate;
    System.arraycopy(steps, 0, all, 1, steps.length);
    return all;
  }

  static boolean isOpenAi(HttpServerRequest req) {
    return req.path() != null && req.path().startsWith("/v1/");
  }

  /** Starts a drain; the answer comes at once, the node leaves once its requests are done. */
  private void drain(RoutingContext ctx) {
    node.startDrain();
    ctx.response().setStatusCode(202).putHeader("Content-Type", JSON)
        .end(new JsonObject().put("node", config.name()).put("status", "draining")
            .put("drain_timeout_ms", config.drainTimeout().toMillis()).toBuffer());
  }

  /** Turns a request away before its body is read while the node is starting or draining. */
  private void refuseUnlessServing(Exchange x, Runnable next) {
    if (!turnedAway(x)) {
      next.run();
    }
  }

  /**
   * Whether the node is starting (it does not know the mesh yet and would answer "model not
   * found") or draining, and answered 503 so that the client tries another node.
   */
  private boolean turnedAway(Exchange x) {
    String state = !node.started() ? "starting" : node.draining() ? "draining" : null;
    if (state == null) {
      return false;
    }
    // Closing the connection sends the client's next request, and its load balancer, elsewhere.
    x.response.putHeader("Connection", "close");
    OllamaErrors.send(x.response, 503, "node '" + config.name() + "' is " + state + "; send requests to another node",
        x.openAi);
    return true;
  }

  /** Bounds the requests this node holds at once: past the limit the answer is 503, not memory. */
  private void admit(Exchange x, Runnable next) {
    if (turnedAway(x)) {
      return;
    }
    if (activeRequests.incrementAndGet() > config.maxRequests()) {
      activeRequests.decrementAndGet();
      OllamaErrors.send(x.response, 503, OllamaErrors.BUSY, x.openAi);
      return;
    }
    x.atEnd(activeRequests::decrementAndGet);
    next.run();
  }

  private void infer(Exchange x, Inference kind) {
    BodyModel parsed = BodyModel.of(x.body);
    HttpServerResponse out = x.response;
    if (parsed.error() != null) {
      OllamaErrors.send(out, 400, parsed.error(), kind.openAi);
      return;
    }
    if (parsed.model() == null || parsed.model().isBlank()) {
      OllamaErrors.send(out, kind.missingStatus, kind.missingMessage, kind.openAi);
      return;
    }
    String model = parsed.model();
    String modelKey = ModelName.key(model);
    observer.model(x.trace, modelKey);
    AuthException refused = AccessControl.mayUse(x, model);
    String pinned = x.request.getHeader(NODE_HEADER_NAME);
    if (refused == null && pinned != null && !pinned.isBlank() && !x.caller.has(Scope.ADMIN)) {
      refused = AccessControl.missing(Scope.ADMIN);
    }
    if (refused != null) {
      OllamaErrors.refuse(out, refused, kind.openAi);
      return;
    }
    RelayRequest req = relayRequest(x.request, x.body);
    Cancellation cancel = cancelOnHangUp(out);
    dispatcher.dispatch(req, modelKey, parsed.maxTokens(), pinned == null || pinned.isBlank() ? null : pinned.trim(), cancel)
        .onComplete(ar -> answer(x, ar.succeeded() ? ar.result() : null, ar.cause(), kind, model));
  }

  private void manage(Exchange x, Runnable next) {
    String site = x.request.getHeader(NODE_HEADER_NAME);
    if (site == null || site.isBlank()) {
      OllamaErrors.send(x.response, 400,
          "model management needs the " + NODE_HEADER + " header naming the site to change", false);
      return;
    }
    RelayRequest req = relayRequest(x.request, x.body);
    dispatcher.toSite(req, site.trim(), cancelOnHangUp(x.response))
        .onComplete(ar -> answer(x, ar.succeeded() ? ar.result() : null, ar.cause(), Inference.MANAGE, ""));
  }

  /** A client that hangs up before its answer starts stops the work wherever it is waiting. */
  private static Cancellation cancelOnHangUp(HttpServerResponse out) {
    Cancellation cancel = new Cancellation();
    out.closeHandler(v -> cancel.cancel());
    return cancel;
  }

  private static RelayRequest relayRequest(HttpServerRequest request, Buffer body) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (CharSequence name : RelayRequest.FORWARDED_HEADERS) {
      String v = request.getHeader(name);
      if (v != null) {
        headers.add(name, v);
      }
    }
    return new RelayRequest(request.method(), request.uri(), headers, body == null ? Buffer.buffer() : body);
  }

  private void answer(Exchange x, RelayResponse answer, Throwable failure, Inference kind, String model) {
    HttpServerResponse out = x.response;
    if (answer != null) {
      if (out.closed()) {
        answer.cancel();
      } else {
        ResponseRelay.relay(out, answer, x.trace);
      }
      return;
    }
    if (failure instanceof NoSiteException none) {
      switch (none.reason()) {
        case MODEL_NOT_FOUND -> OllamaErrors.send(out, 404, String.format(kind.notFound, model), kind.openAi);
        case NODE_NOT_FOUND -> OllamaErrors.send(out, 404, "node '" + none.getMessage() + "' is not in the mesh", kind.openAi);
        case SATURATED -> OllamaErrors.send(out, 503, OllamaErrors.BUSY, kind.openAi);
      }
    } else if (failure instanceof RelayException re) {
      // Every site that was tried is full: say it the way a full Ollama says it.
      OllamaErrors.send(out, re.status(), re.status() == 503 ? OllamaErrors.BUSY : re.getMessage(), kind.openAi);
    } else {
      log.error("relay failed unexpectedly", failure);
      OllamaErrors.send(out, 502, "the mesh could not reach a site: " + failure.getMessage(), kind.openAi);
    }
  }

  private void root(RoutingContext ctx) {
    plain(ctx.response(), 200, "Ollama is running");
  }

  private void version(RoutingContext ctx) {
    json(ctx, new JsonObject().put("version", view.catalog().version()).toBuffer());
  }

  private void openAiModel(RoutingContext ctx) {
    String id = ctx.pathParam("model");
    AuthException refused = AccessControl.mayUse(Exchange.of(ctx), id);
    if (refused != null) {
      OllamaErrors.refuse(ctx.response(), refused, true);
      return;
    }
    JsonObject m = catalog(ctx).openAiModelById().get(ModelName.key(id));
    if (m == null) {
      OllamaErrors.send(ctx.response(), 404, "model \"" + id + "\" not found", true);
    } else {
      json(ctx, m.toBuffer());
    }
  }

  private MeshView.Catalog catalog(RoutingContext ctx) {
    return view.catalog().visibleTo(Exchange.of(ctx).caller.models());
  }

  private static void json(RoutingContext ctx, Buffer body) {
    HttpServerResponse out = ctx.response().putHeader("Content-Type", JSON);
    if (ctx.request().method() == HttpMethod.HEAD) {
      out.putHeader("Content-Length", Integer.toString(body.length())).end();
    } else {
      out.end(body);
    }
  }

  private static void plain(HttpServerResponse out, int status, String text) {
    out.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8");
    if (out.headWritten()) {
      return;
    }
    out.end(text);
  }
}
