package io.hivemesh.security;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a token lets its holder do, written as its claims: {@code sub}, {@code iat}, {@code exp},
 * {@code scope} (space-separated, as in OAuth 2.0), {@code models}, {@code limits.rpm},
 * {@code limits.concurrent}, {@code iss}, {@code aud}.
 *
 * @param models     models the holder may use; empty: no {@code models} claim
 * @param rpm        requests per minute, or null for no such limit
 * @param concurrent requests in flight, or null for no such limit
 * @param issuer     {@code iss}, or null
 * @param audience   {@code aud}, or null
 */
public record TokenGrant(String subject, String scope, List<String> models, Integer rpm, Integer concurrent,
    String issuer, String audience, Duration ttl) {

  public TokenGrant {
    models = List.copyOf(models);
  }

  /** The claims of a token issued at {@code now}. */
  public JsonObject claims(Instant now) {
    JsonObject claims = new JsonObject()
        .put("sub", subject)
        .put("iat", now.getEpochSecond())
        .put("exp", now.plus(ttl).getEpochSecond())
        .put("scope", scope);
    if (!models.isEmpty()) {
      claims.put("models", new JsonArray(models));
    }
    JsonObject limits = new JsonObject();
    if (rpm != null) {
      limits.put("rpm", rpm);
    }
    if (concurrent != null) {
      limits.put("concurrent", concurrent);
    }
    if (!limits.isEmpty()) {
      claims.put("limits", limits);
    }
    if (issuer != null) {
      claims.put("iss", issuer);
    }
    if (audience != null) {
      claims.put("aud", audience);
    }
    return claims;
  }
}
