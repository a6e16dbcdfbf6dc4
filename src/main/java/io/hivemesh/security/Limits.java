package io.hivemesh.security;

/**
 * A subject's quota across the whole mesh; 0 means unlimited.
 *
 * @param rpm        requests per minute (a token bucket holding one minute's worth)
 * @param concurrent requests in flight at once
 */
public record Limits(int rpm, int concurrent) {

  public static final Limits NONE = new Limits(0, 0);

  public boolean any() {
    return rpm > 0 || concurrent > 0;
  }

  /** This token's own limits where it has them, {@code defaults} for the rest. */
  public Limits orElse(Limits defaults) {
    return new Limits(rpm > 0 ? rpm : defaults.rpm, concurrent > 0 ? concurrent : defaults.concurrent);
  }
}
