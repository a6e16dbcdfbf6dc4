package io.hivemesh.security;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns an {@code Authorization} header into a {@link Caller}, or an {@link AuthException}. One
 * per event loop (not thread-safe): a token verified once is remembered until it expires, so the
 * signature check costs nothing on a busy client's later requests.
 */
public final class TokenVerifier {

  private static final int CACHE_SIZE = 4096;
  private static final String BEARER = "Bearer ";

  private final JWTAuth jwt;
  private final Limits defaults;
  private final long leewayMillis;
  private final Map<String, Caller> verified = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Caller> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  public TokenVerifier(Vertx vertx, AuthConfig config) {
    this.jwt = JWTAuth.create(vertx, config.jwt());
    this.defaults = config.defaults();
    this.leewayMillis = config.jwt().getJWTOptions().getLeeway() * 1000L;
  }

  public Future<Caller> verify(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return Future.failedFuture(AuthException.unauthorized("this mesh needs an \"Authorization: Bearer <token>\" header"));
    }
    if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return Future.failedFuture(AuthException.unauthorized("the Authorization header must be \"Bearer <token>\""));
    }
    String token = authorization.substring(BEARER.length()).trim();
    Caller known = verified.get(token);
    if (known != null) {
      if (System.currentTimeMillis() < known.expiresAtMillis()) {
        return Future.succeededFuture(known);
      }
      verified.remove(token);
      return Future.failedFuture(AuthException.unauthorized("token expired"));
    }
    Future<User> authenticated;
    try {
      authenticated = jwt.authenticate(new TokenCredentials(token));
    } catch (ClassCastException | NullPointerException e) {
      // vertx-auth-jwt throws, rather than fails, on a signed token whose exp, iat or nbf is not a number.
      authenticated = Future.failedFuture(AuthException.unauthorized("token claims exp, iat and nbf must be numbers"));
    }
    return authenticated
        .recover(err -> Future.failedFuture(err instanceof AuthException refusal ? refusal
            : AuthException.unauthorized(unsigned(token) ? UNSIGNED : reason(err))))
        .map(user -> {
          // The principal drops exp/iat/nbf; the token's full claims are kept here.
          JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
          Caller caller = caller(claims);
          verified.put(token, caller);
          return caller;
        });
  }

  private Caller caller(JsonObject claims) {
    Object exp = claims.getValue("exp");
    if (!(exp instanceof Number expSeconds)) {
      // vertx-auth-jwt accepts a token without exp forever: this mesh does not.
      throw AuthException.unauthorized("token has no exp claim; tokens must expire");
    }
    Object sub = claims.getValue("sub");
    if (!(sub instanceof String subject) || subject.isBlank()) {
      throw AuthException.unauthorized("token has no sub claim");
    }
    // An exp far in the future (1e300) must not overflow into the past: the cached token would then
    // pass once and be "expired" from its second request on.
    long expiresAt = expSeconds.longValue() >= (Long.MAX_VALUE - leewayMillis) / 1000 ? Long.MAX_VALUE
        : expSeconds.longValue() * 1000 + leewayMillis;
    return new Caller(subject, Scope.parse(scopeWords(claims)), ModelAccess.of(models(claims)),
        limits(claims).orElse(defaults), expiresAt);
  }

  /** {@code scope} as a space-separated string, or a list as some identity providers send it. */
  private static String scopeWords(JsonObject claims) {
    Object scope = claims.getValue("scope", claims.getValue("scp"));
    if (scope instanceof JsonArray list) {
      return String.join(" ", list.stream().map(String::valueOf).toList());
    }
    return scope instanceof String s ? s : null;
  }

  private static List<String> models(JsonObject claims) {
    Object models = claims.getValue("models");
    if (models == null) {
      return null;
    }
    if (models instanceof String one) {
      return List.of(one.split(","));
    }
    if (!(models instanceof JsonArray list)) {
      throw AuthException.unauthorized("the models claim must be a list of model names");
    }
    List<String> names = new ArrayList<>();
    list.forEach(m -> names.add(String.valueOf(m)));
    return names;
  }

  private static Limits limits(JsonObject claims) {
    Object limits = claims.getValue("limits");
    if (!(limits instanceof JsonObject l)) {
      return Limits.NONE;
    }
    return new Limits(positive(l.getValue("rpm")), positive(l.getValue("concurrent")));
  }

  private static int positive(Object v) {
    return v instanceof Number n && n.longValue() > 0 ? (int) Math.min(Integer.MAX_VALUE, n.longValue()) : 0;
  }

  private static final String UNSIGNED = "unsigned tokens (alg \"none\") are not accepted";

  /** Whether the token's header says {@code alg: none}; such a token never gets as far as a signature check. */
  private static boolean unsigned(String token) {
    int dot = token.indexOf('.');
    try {
      JsonObject header = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(
          dot < 0 ? token : token.substring(0, dot)), java.nio.charset.StandardCharsets.UTF_8));
      return "none".equalsIgnoreCase(header.getString("alg"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** A short reason a client can act on; vertx-auth-jwt's own messages vary by version. */
  static String reason(Throwable err) {
    String m = String.valueOf(err.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (m.contains("expired")) {
      return "token expired";
    }
    if (m.contains("none")) {
      return UNSIGNED;
    }
    if (m.contains("iss")) {
      return "token issuer is not the one this mesh trusts";
    }
    if (m.contains("aud")) {
      return "token audience does not include this mesh";
    }
    if (m.contains("signature")) {
      return "token signature does not verify";
    }
    if (m.contains("iat") || m.contains("nbf")) {
      return "token is not valid yet";
    }
    if (m.contains("algorithm") || m.contains("kid") || m.contains("key")) {
      return "token is signed with a key or algorithm this mesh does not trust";
    }
    return "malformed token";
  }
}
