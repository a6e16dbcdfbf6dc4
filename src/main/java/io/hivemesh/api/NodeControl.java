package io.hivemesh.api;

/** What the HTTP surface may ask of the node it belongs to. */
public interface NodeControl {

  /**
   * True once the node knows the mesh: its HTTP port listens a moment before, and a request
   * routed then would find no site for its model.
   */
  boolean started();

  /** True once the node has stopped taking new work. */
  boolean draining();

  /** Starts a graceful drain, if not already under way: finish in-flight requests, then leave. */
  void startDrain();

  /** Takes an edge's WebSocket on {@code /hive/edge}; the token's {@code edge} scope is checked before. */
  void attachEdge(io.vertx.ext.web.RoutingContext ctx);
}
