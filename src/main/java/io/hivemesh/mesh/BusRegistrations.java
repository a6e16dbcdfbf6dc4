package io.hivemesh.mesh;

import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node reachable on the event bus. Peers send to it only while its bus address
 * ({@code __vertx.nodeInfo}) and its inbox registrations ({@code __vertx.subs}) are in the
 * cluster. Vert.x republishes them after a membership change or a merge, but each member also
 * deletes the entries of a member it saw leave, and a deletion handled late (under CPU
 * starvation, after the member already came back through a merge) removes them for good: the
 * node keeps publishing its load, peers keep routing to it, and every open waits out its ack
 * timeout. A periodic check puts them back the way Vert.x does after a merge.
 */
public final class BusRegistrations {

  private static final Logger log = LoggerFactory.getLogger(BusRegistrations.class);

  private final Vertx vertx;
  private final HazelcastClusterManager cluster;
  private final List<String> inboxes;
  private final long periodMs;
  private long timer = -1;
  private boolean checking;

  public BusRegistrations(Vertx vertx, HazelcastClusterManager cluster, List<String> inboxes, long periodMs) {
    this.vertx = vertx;
    this.cluster = cluster;
    this.inboxes = List.copyOf(inboxes);
    this.periodMs = periodMs;
  }

  public void start() {
    timer = vertx.setPeriodic(periodMs, id -> check());
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  private void check() {
    if (checking || !cluster.isActive()) {
      return;
    }
    checking = true;
    missing()
        .compose(gone -> gone.isEmpty() ? Future.succeededFuture() : vertx.executeBlocking(() -> {
          log.warn("this node's {} vanished from the cluster: publishing again so peers can reach it",
              String.join(", ", gone));
          // What Vert.x itself runs once a merge is over: re-put the node's bus address and every registration.
          cluster.stateChanged(new LifecycleEvent(LifecycleEvent.LifecycleState.MERGED));
          return null;
        }))
        .onFailure(err -> log.debug("checking this node's bus registrations failed: {}", err.getMessage()))
        .onComplete(ar -> checking = false);
  }

  /** What peers cannot find of this node: its bus address, inboxes. */
  private Future<List<String>> missing() {
    String self = cluster.getNodeId();
    Promise<NodeInfo> info = Promise.promise();
    cluster.getNodeInfo(self, info);
    List<Future<Boolean>> registered = new ArrayList<>();
    for (String inbox : inboxes) {
      Promise<List<RegistrationInfo>> regs = Promise.promise();
      cluster.getRegistrations(inbox, regs);
      registered.add(regs.future().map(list -> list.stream().anyMatch(r -> r.nodeId().equals(self))));
    }
    Future<Boolean> hasInfo = info.future().map(true).otherwise(false);
    return Future.all(hasInfo, Future.all(registered)).map(v -> {
      List<String> gone = new ArrayList<>();
      if (!hasInfo.result()) {
        gone.add("bus address");
      }
      for (int i = 0; i < inboxes.size(); i++) {
        if (!registered.get(i).result()) {
          gone.add("inbox " + inboxes.get(i));
        }
      }
      return gone;
    });
  }
}
