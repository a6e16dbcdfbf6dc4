package io.hivemesh.relay;

import io.vertx.core.MultiMap;

/**
 * The answer of one site, head first and body on demand: the same shape whether the site is this
 * node's own Ollama or a peer across the event bus, so the HTTP layer relays both one way.
 */
public interface RelayResponse {

  int status();

  /** Response headers as the site's Ollama sent them, hop-by-hop headers excluded. */
  MultiMap headers();

  /** Name of the site that answered. */
  String site();

  /** Starts the body flowing into {@code sink}; called once. */
  void start(BodySink sink);

  /** Back-pressure: the sink cannot take more for now. */
  void pause();

  void resume();

  /** The client is gone or the answer is not wanted: stop the work at the site. Idempotent. */
  void cancel();
}
