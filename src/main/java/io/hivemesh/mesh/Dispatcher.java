package io.hivemesh.mesh;

import io.hivemesh.NodeConfig;
import io.hivemesh.backend.OllamaBackend;
import io.hivemesh.observe.MeshMetrics;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.routing.Candidate;
import io.hivemesh.routing.RoutingStrategy;
import io.hivemesh.routing.Work;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a request to the best site that can serve it, and on to the next one while nothing has
 * reached the client yet: a refused connection, a 5xx, a full site or a stale "model not found"
 * costs a retry, not an error. One per event loop, next to that loop's {@link Inbox}.
 */
public final class Dispatcher {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  private final NodeConfig config;
  private final MeshView view;
  private final RoutingStrategy strategy;
  private final OllamaBackend backend;
  private final Inbox inbox;
  private final SiteBreakers breakers;
  private final MeshMetrics metrics;

  public Dispatcher(NodeConfig config, MeshView view, RoutingStrategy strategy, OllamaBackend backend, Inbox inbox,
                    SiteBreakers breakers, MeshMetrics metrics) {
    this.breakers = breakers;
    this.metrics = metrics;
    this.config = config;
    this.view = view;
    this.strategy = strategy;
    this.backend = backend;
    this.inbox = inbox;
  }

  /**
   * Relays a request for {@code modelKey} to a site that holds it ({@code pinnedSite} only, when
   * given); fails with {@link NoSiteException} when none can take it. {@code maxTokens} is the cap
   * the request puts on its answer, 0 for none.
   */
  public Future<RelayResponse> dispatch(RelayRequest req, String modelKey, long maxTokens, String pinnedSite,
                                        Cancellation cancel) {
    MeshView.Candidates found = view.candidates(modelKey);
    List<Candidate> sites = found.sites();
    if (pinnedSite != null) {
      if (view.state(pinnedSite) == null) {
        return Future.failedFuture(new NoSiteException(NoSiteException.Reason.NODE_NOT_FOUND, pinnedSite));
      }
      sites.removeIf(c -> !c.site().equals(pinnedSite));
      if (sites.isEmpty() && !view.holds(pinnedSite, modelKey)) {
        return Future.failedFuture(new NoSiteException(NoSiteException.Reason.MODEL_NOT_FOUND, modelKey));
      }
    }
    if (sites.isEmpty()) {
      return Future.failedFuture(found.saturated() > 0 || (pinnedSite != null)
          ? new NoSiteException(NoSiteException.Reason.SATURATED, modelKey)
          : new NoSiteException(NoSiteException.Reason.MODEL_NOT_FOUND, modelKey));
    }
    List<Candidate> order = strategy.order(sites, isEmbedding(req.uri()) ? Work.EMBEDDING : Work.answer(maxTokens));
    boolean guarded = false;
    if (pinnedSite == null) {
      // Sites whose breaker is open are skipped; if that leaves none, trying beats refusing.
      List<Candidate> admitted = admitted(order);
      if (!admitted.isEmpty()) {
        order = admitted;
        guarded = true;
      }
    }
    return attempt(req, modelKey, cancel, order, 0, Math.min(order.size(), config.maxAttempts()), guarded);
  }

  /** The candidates whose breaker admits them, in order: {@code order} itself when all do, as nearly always. */
  private List<Candidate> admitted(List<Candidate> order) {
    for (int i = 0; i < order.size(); i++) {
      if (!breakers.admits(order.get(i).site())) {
        List<Candidate> admitted = new ArrayList<>(order.subList(0, i));
        for (int j = i + 1; j < order.size(); j++) {
          if (breakers.admits(order.get(j).site())) {
            admitted.add(order.get(j));
          }
        }
        return admitted;
      }
    }
    return order;
  }

  /** Relays a request to the named site, whatever models it holds (model management). */
  public Future<RelayResponse> toSite(RelayRequest req, String site, Cancellation cancel) {
    SiteState state = view.state(site);
    if (state == null) {
      return Future.failedFuture(new NoSiteException(NoSiteException.Reason.NODE_NOT_FOUND, site));
    }
    return send(req, "", state, cancel, () -> { });
  }

  /**
   * Tries {@code order[i]}, then the next while retrying makes sense. When {@code guarded}, a
   * half-open site's one trial is taken only here, as the request actually goes to it.
   */
  private Future<RelayResponse> attempt(RelayRequest req, String modelKey, Cancellation cancel, List<Candidate> order,
                                       int i, int tries, boolean guarded) {
    if (cancel.cancelled()) {
      return Future.failedFuture(Cancellation.canceled());
    }
    Candidate site = order.get(i);
    boolean last = i + 1 >= tries;
    SiteState state = view.state(site.site());
    if (state == null) {
      // Left the mesh since the candidates were taken.
      return !last ? attempt(req, modelKey, cancel, order, i + 1, tries, guarded)
          : Future.failedFuture(new RelayException(502, "site '" + site.site() + "' left the mesh", true));
    }
    if (guarded && !breakers.allows(site.site()) && !last) {
      // Another request took the half-open trial, or the breaker opened, since routing looked.
      return attempt(req, modelKey, cancel, order, i + 1, tries, guarded);
    }
    if (!site.loaded() && site.evicts()) {
      view.noteColdLoad(site.site(), modelKey);
    }
    Runnable ended = view.noteDispatched(site.site(), modelKey);
    return send(req, modelKey, state, cancel, ended).transform(ar -> {
      if (!cancel.cancelled()) {
        record(site.site(), ar.succeeded() ? ar.result().status() : 0, ar.cause());
      }
      if (ar.succeeded()) {
        RelayResponse resp = ar.result();
        if (!last && retryable(resp.status())) {
          log.debug("site '{}' answered {} for {}; trying the next site", site.site(), resp.status(), modelKey);
          resp.cancel();
          metrics.failover(modelKey, site.site());
          return attempt(req, modelKey, cancel, order, i + 1, tries, guarded);
        }
        return Future.succeededFuture(resp);
      }
      Throwable err = ar.cause();
      if (!last && (!(err instanceof RelayException re) || re.retryable())) {
        log.debug("site '{}' failed for {} ({}); trying the next site", site.site(), modelKey, err.getMessage());
        metrics.failover(modelKey, site.site());
        return attempt(req, modelKey, cancel, order, i + 1, tries, guarded);
      }
      return Future.failedFuture(err);
    });
  }

  /** Feeds the site's breaker: a full site (503) says nothing about its health. */
  private void record(String site, int status, Throwable failure) {
    if (failure instanceof RelayException re && re.status() == 503) {
      return;
    }
    if (failure != null || status >= 500 && status != 503) {
      breakers.failed(site);
    } else {
      breakers.succeeded(site);
    }
  }

  private static boolean isEmbedding(String uri) {
    return uri.startsWith("/api/embed") || uri.startsWith("/v1/embeddings");
  }

  /** A 5xx (including a full Ollama's 503) or a stale "model not found": another site may do better. */
  static boolean retryable(int status) {
    return status >= 500 || status == 404;
  }

  /** {@code ended} runs once the remote stream has ended, however it ends. */
  private Future<RelayResponse> send(RelayRequest req, String modelKey, SiteState site, Cancellation cancel,
                                     Runnable ended) {
    return site.name().equals(config.name()) ? backend.relay(req, modelKey, cancel)
        : inbox.open(site, req, modelKey, cancel, ended);
  }
}
