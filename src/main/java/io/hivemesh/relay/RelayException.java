package io.hivemesh.relay;

/**
 * A site could not produce an answer head: connection refused, timed out, peer gone, saturated.
 * {@link #retryable()} says whether another site may be tried for the same request.
 */
public final class RelayException extends RuntimeException {

  private final int status;
  private final boolean retryable;

  public RelayException(int status, String message, boolean retryable) {
    super(message, null, false, false);
    this.status = status;
    this.retryable = retryable;
  }

  public int status() {
    return status;
  }

  public boolean retryable() {
    return retryable;
  }
}
