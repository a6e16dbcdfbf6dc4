package io.hivemesh.security;

import io.vertx.core.Vertx;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Instant;

/** Signs tokens with one key, through vertx-auth-jwt: the library the nodes verify them with. */
public final class TokenMinter {

  private final JWTAuth auth;
  private final JWTOptions options;

  /** {@code vertx} is only what {@link JWTAuth#create} asks for; signing runs on the caller's thread. */
  public TokenMinter(Vertx vertx, SigningKey key) {
    this.auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(key.algorithm()).setBuffer(key.material())));
    // The claims carry iat and exp themselves, so the options add nothing but the algorithm.
    this.options = new JWTOptions().setAlgorithm(key.algorithm());
  }

  public String mint(TokenGrant grant) {
    return auth.generateToken(grant.claims(Instant.now()), options);
  }
}
