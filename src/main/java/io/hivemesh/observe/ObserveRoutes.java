package io.hivemesh.observe;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Supplier;

/**
 * What operators and their tools ask a node: {@code /hive/health} (the process answers),
 * {@code /hive/ready} (it can take requests), {@code /metrics} (Prometheus), {@code /hive/mesh}
 * (the mesh at a glance, JSON) and {@code /hive/ui} (the page that shows it). One per event loop.
 */
public final class ObserveRoutes {

  private static final String JSON = "application/json; charset=utf-8";
  /** The page, read once from the jar: it has no build step and no other file. */
  private static final Buffer PAGE = resource("/hive-ui/index.html");

  private final String node;
  private final MeshMetrics metrics;
  private final MeshStatus status;
  private final Supplier<String> notReady;

  /**
   * @param notReady why the node cannot take requests now, or null when it can
   */
  public ObserveRoutes(String node, MeshMetrics metrics, MeshStatus status, Supplier<String> notReady) {
    this.node = node;
    this.metrics = metrics;
    this.status = status;
    this.notReady = notReady;
  }

  public void health(RoutingContext ctx) {
    json(ctx, 200, new JsonObject().put("status", "ok").put("node", node));
  }

  public void ready(RoutingContext ctx) {
    String reason = notReady.get();
    json(ctx, reason == null ? 200 : 503, reason == null ? new JsonObject().put("status", "ready").put("node", node)
        : new JsonObject().put("status", "not ready").put("node", node).put("reason", reason));
  }

  /** Off the event loop: a scrape walks every meter, and the first ones after a start run cold. */
  public void metrics(RoutingContext ctx) {
    ctx.vertx().executeBlocking(metrics::scrape, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  public void mesh(RoutingContext ctx) {
    json(ctx, 200, status.toJson());
  }

  public void page(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        // The page runs its own inline script and talks to this node only.
        .putHeader("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
            + "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
        .end(PAGE);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", JSON).end(body.toBuffer());
  }

  private static Buffer resource(String path) {
    try (InputStream in = ObserveRoutes.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
