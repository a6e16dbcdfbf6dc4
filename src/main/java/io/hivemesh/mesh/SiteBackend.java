package io.hivemesh.mesh;

import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Future;

/**
 * What an {@link Inbox} serves its streams from: a site's Ollama over HTTP
 * ({@link io.hivemesh.backend.OllamaBackend}), or an edge site over its WebSocket
 * ({@link io.hivemesh.edge.EdgeLink}).
 */
public interface SiteBackend {

  /** Takes a place for a request at this site; false when the site is full. */
  boolean tryAcquire(String modelKey);

  /** Which bound refused a request for {@code modelKey}. */
  String whyFull(String modelKey);

  /** Relays a request that already holds its place ({@link #tryAcquire}); the place is given back when it ends. */
  Future<RelayResponse> relayAcquired(RelayRequest req, String modelKey, Cancellation cancel);
}
