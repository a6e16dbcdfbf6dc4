package io.hivemesh.security;

import java.util.EnumSet;
import java.util.Set;

/**
 * Who sent a request, as its verified token says.
 *
 * @param subject  the token's {@code sub}: whose quota the request counts against
 * @param scopes   what it may do
 * @param models   which models it may use and see
 * @param limits   its quota
 * @param expiresAtMillis when the token stops being accepted (leeway included)
 */
public record Caller(String subject, Set<Scope> scopes, ModelAccess models, Limits limits, long expiresAtMillis) {

  /** The caller of a node run with {@code --insecure-no-auth}: anyone, allowed everything. */
  public static Caller anonymous(Limits limits) {
    return new Caller("anonymous", EnumSet.allOf(Scope.class), ModelAccess.ALL, limits, Long.MAX_VALUE);
  }

  public boolean has(Scope scope) {
    return scopes.contains(scope);
  }
}
