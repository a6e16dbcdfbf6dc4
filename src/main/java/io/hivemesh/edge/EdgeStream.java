package io.hivemesh.edge;

import io.hivemesh.relay.WindowedResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The node's end of one request relayed to an attached edge: turns the edge's frames into the calls
 * of {@link WindowedResponse}, which hands the answer to the client under the credit window.
 * Confined to the event loop of its {@link EdgeLink}.
 */
final class EdgeStream extends WindowedResponse {

  private final EdgeLink link;
  private final long sid;
  private final Runnable release;

  EdgeStream(EdgeLink link, long sid, Runnable release) {
    super(EdgeProtocol.WINDOW);
    this.link = link;
    this.sid = sid;
    this.release = release;
  }

  void onHead(JsonObject json) {
    onHead(json.getInteger("status", 502), EdgeProtocol.headersOf(json.getJsonObject("headers")), null, false);
  }

  void onError(JsonObject json) {
    onError(json.getInteger("status", 502), json.getString("message", "error"), json.getBoolean("retryable", true));
  }

  @Override
  protected void sendGrant(int chunks) {
    link.send(EdgeProtocol.credit(sid, chunks));
  }

  @Override
  protected void sendCancel() {
    link.send(EdgeProtocol.frame(EdgeProtocol.CANCEL, sid, (Buffer) null));
  }

  @Override
  protected void released() {
    link.forget(sid);
    release.run();
  }

  @Override
  protected String sender() {
    return "edge '" + link.name() + "'";
  }

  @Override
  public String site() {
    return link.name();
  }
}
