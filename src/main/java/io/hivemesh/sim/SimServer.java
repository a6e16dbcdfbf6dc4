package io.hivemesh.sim;

import io.hivemesh.model.ModelName;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sim's HTTP server, deployed as a verticle so that it owns one event loop: every handler,
 * timer and scheduler decision of one sim runs there, one at a time.
 */
final class SimServer extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SimServer.class);
  /** Ollama reads bodies of any size; the sim draws the line at a generous 64 MiB. */
  static final long MAX_BODY = 64L << 20;
  private static final byte[] NO_BODY = new byte[0];

  private final SimOptions options;
  private final SimStats stats;
  private final HostGuard guard;
  private final SimRoutes routes = new SimRoutes();
  private SimScheduler scheduler;
  private SimCore core;
  private HttpServer server;

  SimServer(SimOptions options, SimStats stats, HostGuard guard) {
    this.options = options;
    this.stats = stats;
    this.guard = guard;
  }

  @Override
  public Future<?> start() {
    scheduler = new SimScheduler(vertx, options, stats);
    core = new SimCore(vertx, options, stats, scheduler, new SimCatalog(options.models()),
        new TextGenerator(options.seed()));
    NativeApi api = new NativeApi(core);
    ModelAdminApi admin = new ModelAdminApi(core);
    OpenAiApi openAi = new OpenAiApi(core, api);
    ErrorStyle n = ErrorStyle.NATIVE;
    ErrorStyle o = ErrorStyle.OPENAI_MIDDLEWARE;
    routes.add(HttpMethod.HEAD, "/", n, (req, p, b) -> api.root(req))
        .add(HttpMethod.GET, "/", n, (req, p, b) -> api.root(req))
        .add(HttpMethod.HEAD, "/api/version", n, (req, p, b) -> api.version(req))
        .add(HttpMethod.GET, "/api/version", n, (req, p, b) -> api.version(req))
        .add(HttpMethod.POST, "/api/pull", n, (req, p, b) -> admin.pull(req, b))
        .add(HttpMethod.POST, "/api/push", n, (req, p, b) -> admin.push(req, b))
        .add(HttpMethod.HEAD, "/api/tags", n, (req, p, b) -> api.tags(req))
        .add(HttpMethod.GET, "/api/tags", n, (req, p, b) -> api.tags(req))
        .add(HttpMethod.POST, "/api/show", n, (req, p, b) -> api.show(req, b))
        .add(HttpMethod.DELETE, "/api/delete", n, (req, p, b) -> admin.delete(req, b))
        .add(HttpMethod.POST, "/api/create", n, (req, p, b) -> admin.create(req, b))
        .add(HttpMethod.POST, "/api/blobs/:digest", n, (req, p, b) -> admin.createBlob(req, p))
        .streaming(HttpMethod.POST, "/api/blobs/:digest")
        .add(HttpMethod.HEAD, "/api/blobs/:digest", n, (req, p, b) -> admin.headBlob(req, p))
        .add(HttpMethod.POST, "/api/copy", n, (req, p, b) -> admin.copy(req, b))
        .add(HttpMethod.GET, "/api/ps", n, (req, p, b) -> api.ps(req))
        .add(HttpMethod.POST, "/api/generate", n, (req, p, b) -> api.generate(req, b))
        .add(HttpMethod.POST, "/api/chat", n, (req, p, b) -> api.chat(req, b))
        .add(HttpMethod.POST, "/api/embed", n, (req, p, b) -> api.embed(req, b))
        .add(HttpMethod.POST, "/api/embeddings", n, (req, p, b) -> api.embeddings(req, b))
        .add(HttpMethod.POST, "/v1/chat/completions", o, (req, p, b) -> openAi.chatCompletions(req, b))
        .add(HttpMethod.POST, "/v1/completions", o, (req, p, b) -> openAi.completions(req, b))
        .add(HttpMethod.POST, "/v1/embeddings", o, (req, p, b) -> openAi.embeddings(req, b))
        .add(HttpMethod.GET, "/v1/models", ErrorStyle.OPENAI, (req, p, b) -> openAi.models(req))
        .add(HttpMethod.GET, "/v1/models/:model", ErrorStyle.OPENAI, (req, p, b) -> openAi.model(req, p));
    // Go's server ignores "Upgrade: h2c", so clients that offer it (the JDK's) stay on HTTP/1.1.
    HttpServerOptions serverOptions = new HttpServerOptions()
        .setHost(options.host())
        .setPort(options.port())
        .setHttp2ClearTextEnabled(false)
        .setHandle100ContinueAutomatically(true);
    if (options.tls() != null) {
      serverOptions.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(options.tls().certPath()).setKeyPath(options.tls().keyPath()));
    }
    server = vertx.createHttpServer(serverOptions);
    server.requestHandler(this::handle);
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    scheduler.close();
    return server.close();
  }

  int actualPort() {
    return server.actualPort();
  }

  /** On the sim's event loop: see {@link SimScheduler#reset}. A name the sim does not hold fails it. */
  Future<Void> reset(List<String> names) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      List<SimModel> models = new ArrayList<>();
      for (String name : names) {
        SimModel m = core.catalog().find(ModelName.parse(name));
        if (m == null) {
          done.fail(new IllegalArgumentException("sim '" + options.name() + "' has no model '" + name + "'"));
          return;
        }
        models.add(m);
      }
      scheduler.reset(models);
      done.complete();
    });
    return done.future();
  }

  /** Closes the listener and every open connection, then forgets all timers. */
  Future<Void> shutdown() {
    return server.close().onComplete(ar -> context.runOnContext(v -> scheduler.close()));
  }

  private void handle(HttpServerRequest req) {
    try {
      if (!guard.admit(req)) {
        return;
      }
      String path = decodePath(req.path());
      if (path == null) {
        SimResponses.send(req, 400, SimResponses.TEXT_UTF8, "400 Bad Request");
        return;
      }
      SimRoutes.Match m = routes.match(req.method(), path);
      switch (m.kind()) {
        case NOT_FOUND -> SimResponses.send(req, 404, SimResponses.TEXT, "404 page not found");
        case METHOD_NOT_ALLOWED -> {
          req.response().putHeader("Allow", m.allow());
          SimResponses.send(req, 405, SimResponses.TEXT, "405 method not allowed");
        }
        case REDIRECT -> redirect(req, m.location());
        case FOUND -> {
          if (m.route().readsBody()) {
            readBody(req, body -> invoke(req, m, body));
          } else {
            invoke(req, m, NO_BODY);
          }
        }
        default -> throw new IllegalStateException(m.kind().name());
      }
    } catch (RuntimeException e) {
      LOG.warn("sim failed on {} {}", req.method(), req.uri(), e);
      SimResponses.send(req, 500, SimResponses.JSON_UTF8, new JsonOut().obj().field("error", "internal error").end().toBuffer());
    }
  }

  private static void invoke(HttpServerRequest req, SimRoutes.Match m, byte[] body) {
    try {
      m.route().handler().handle(req, m.param(), body);
    } catch (ApiException e) {
      m.route().errors().send(req, e.status(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("sim handler failed on {} {}", req.method(), req.uri(), e);
      m.route().errors().send(req, 500, String.valueOf(e.getMessage()));
    }
  }

  /** gin's trailing-slash redirect, with Go's http.Redirect body for GET and HEAD. */
  private static void redirect(HttpServerRequest req, String path) {
    boolean get = req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD;
    String location = req.query() == null ? path : path + "?" + req.query();
    req.response().putHeader("Location", location);
    if (get) {
      SimResponses.send(req, 301, "text/html; charset=utf-8", "<a href=\"" + htmlEscape(location)
          + "\">Moved Permanently</a>.\n\n");
    } else {
      SimResponses.empty(req, 307);
    }
  }

  private static String htmlEscape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
        .replace("'", "&#39;");
  }

  /** Reads the whole body, refusing more than {@link #MAX_BODY} with a 413 and a closed connection. */
  private static void readBody(HttpServerRequest req, Consumer<byte[]> then) {
    String length = req.getHeader("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > MAX_BODY) {
          tooLarge(req);
          return;
        }
      } catch (NumberFormatException e) {
        // Vert.x has already rejected unparseable lengths; nothing more to check.
      }
    }
    Buffer acc = Buffer.buffer();
    boolean[] over = {false};
    req.handler(chunk -> {
      if (over[0]) {
        return;
      }
      if (acc.length() + (long) chunk.length() > MAX_BODY) {
        over[0] = true;
        tooLarge(req);
        return;
      }
      acc.appendBuffer(chunk);
    });
    req.endHandler(v -> {
      if (!over[0]) {
        then.accept(acc.getBytes());
      }
    });
  }

  private static void tooLarge(HttpServerRequest req) {
    // The rest of the body is never read, so the connection cannot be reused.
    SimResponses.head(req, 413, SimResponses.JSON_UTF8).putHeader("Connection", "close")
        .end(new JsonOut().obj().field("error", "http: request body too large").end().toBuffer())
        .onComplete(ar -> req.connection().close());
  }

  /** Percent-decodes the path as Go's URL.Path does; null for a malformed escape (Go: 400). */
  static String decodePath(String raw) {
    if (raw == null) {
      return "/";
    }
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b != '%') {
        out.write(b);
        continue;
      }
      if (i + 2 >= bytes.length) {
        return null;
      }
      int hi = Character.digit(bytes[i + 1], 16);
      int lo = Character.digit(bytes[i + 2], 16);
      if (hi < 0 || lo < 0) {
        return null;
      }
      out.write(hi * 16 + lo);
      i += 2;
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
