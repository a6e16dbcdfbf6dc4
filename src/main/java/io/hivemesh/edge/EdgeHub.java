package io.hivemesh.edge;

import com.hazelcast.core.HazelcastInstance;
import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.ClusterConfig;
import io.hivemesh.mesh.Inbox;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edges attached to this node. Takes the WebSocket upgrade on {@value EdgeProtocol#PATH} (the
 * token's {@code edge} scope was checked before) once the edge's name is free: no full node of
 * that name is in the mesh, and no other node still answers for an edge of that name. An edge
 * whose node died moves here at once; its inbox addresses are new with each attachment, so the
 * dead node's lingering bus registrations never receive its streams.
 */
public final class EdgeHub {

  private static final Logger log = LoggerFactory.getLogger(EdgeHub.class);
  private static final String JSON = "application/json; charset=utf-8";

  private final Vertx vertx;
  private final NodeConfig config;
  private final MeshView view;
  private final HazelcastInstance hazelcast;
  private final String nodeId;
  private final BooleanSupplier draining;
  /** Attached edges by name; a name is reserved while its upgrade is under way. */
  private final ConcurrentHashMap<String, Object> names = new ConcurrentHashMap<>();
  private static final Object RESERVED = new Object();

  public EdgeHub(Vertx vertx, NodeConfig config, MeshView view, HazelcastInstance hazelcast, String nodeId,
                 BooleanSupplier draining) {
    this.vertx = vertx;
    this.config = config;
    this.view = view;
    this.hazelcast = hazelcast;
    this.nodeId = nodeId;
    this.draining = draining;
  }

  /** {@code GET /hive/edge?name=NAME} with a WebSocket upgrade. */
  public void attach(RoutingContext ctx) {
    String name = ctx.request().getParam("name");
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
      refuse(ctx, 400, "edge name: expected letters, digits, '.', '_' or '-' (at most 63)");
      return;
    }
    if (!ctx.request().canUpgradeToWebSocket()) {
      refuse(ctx, 400, "an edge connects with a WebSocket upgrade");
      return;
    }
    if (draining.getAsBoolean()) {
      refuse(ctx, 503, "node '" + config.name() + "' is draining; connect to another node");
      return;
    }
    SiteState held = view.state(name);
    boolean fullNode = name.equals(config.name()) || held != null && held.via() == null
        || hazelcast.getCluster().getMembers().stream()
            .anyMatch(m -> name.equals(m.getAttribute(ClusterConfig.SITE_ATTRIBUTE)));
    if (fullNode) {
      refuse(ctx, 409, "a node named '" + name + "' is in the mesh");
      return;
    }
    if (names.putIfAbsent(name, RESERVED) != null) {
      refuse(ctx, 409, "an edge named '" + name + "' is attached to node '" + config.name() + "'");
      return;
    }
    Future<Void> free = held == null || held.nodeId().equals(nodeId) ? Future.succeededFuture()
        : Inbox.ping(vertx, held.inbox(0), config.connectTimeout().toMillis()).transform(ar -> {
          if (ar.succeeded()) {
            return Future.failedFuture("an edge named '" + name + "' is attached to node '" + held.via() + "'");
          }
          log.info("edge '{}': node '{}' no longer answers for it ({}); taking it over", name, held.via(),
              ar.cause().getMessage());
          return Future.succeededFuture();
        });
    free.onFailure(err -> {
      names.remove(name, RESERVED);
      refuse(ctx, 409, err.getMessage());
    }).onSuccess(v -> ctx.request().toWebSocket().onComplete(ar -> {
      if (ar.failed()) {
        names.remove(name, RESERVED);
        log.debug("edge '{}': upgrade failed: {}", name, ar.cause().getMessage());
        return;
      }
      EdgeLink link = new EdgeLink(vertx, config, name, nodeId, ar.result(), view, hazelcast);
      names.put(name, link);
      link.closed().onComplete(c -> names.remove(name, link));
      link.start();
    }));
  }

  private static void refuse(RoutingContext ctx, int status, String message) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", JSON)
          .end(new JsonObject().put("error", message).toBuffer());
    }
  }

  /** Detaches every edge (they reconnect elsewhere) and withdraws their sites; each on its own loop. */
  public Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    names.values().forEach(l -> {
      if (l instanceof EdgeLink link) {
        all.add(link.closeOnItsLoop("node '" + config.name() + "' is shutting down"));
      }
    });
    return Future.all(all).mapEmpty();
  }
}
