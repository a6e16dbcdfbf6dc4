package io.hivemesh.mesh;

/** No site can take the request; the HTTP layer turns the reason into Ollama's own error. */
public final class NoSiteException extends RuntimeException {

  public enum Reason { MODEL_NOT_FOUND, NODE_NOT_FOUND, SATURATED }

  private final Reason reason;

  public NoSiteException(Reason reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
