package io.hivemesh.security;

/**
 * A request refused before it reaches any site: 401 (who are you?), 403 (not allowed) or 429
 * (over quota). The message is safe to show the client and to log: it never holds the token.
 */
public final class AuthException extends RuntimeException {

  private final int status;
  private final int retryAfterSeconds;

  private AuthException(int status, String message, int retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static AuthException unauthorized(String why) {
    return new AuthException(401, "unauthorized: " + why, 0);
  }

  public static AuthException forbidden(String why) {
    return new AuthException(403, "forbidden: " + why, 0);
  }

  public static AuthException tooManyRequests(String why, int retryAfterSeconds) {
    return new AuthException(429, "too many requests: " + why, Math.max(1, retryAfterSeconds));
  }

  public int status() {
    return status;
  }

  /** Seconds for the {@code Retry-After} header of a 429; 0 otherwise. */
  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
