package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens from an identity provider: RS256 and ES256 keys given as PEM or as a JWKS. */
class TokenVerifierTest {

  @TempDir
  static Path dir;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static AuthConfig keys(List<Path> publicKeys, Path jwks) {
    return AuthConfig.of(null, publicKeys, jwks, "https://idp.example", null, Duration.ofSeconds(5), false, Limits.NONE);
  }

  private static String mint(Path privateKey, List<String> models) {
    return new TokenMinter(vertx, SigningKey.privateKey("--private-key", privateKey)).mint(new TokenGrant("carol",
        "inference models:read", models, 30, null, "https://idp.example", null, Duration.ofMinutes(5)));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Path write(String name, String label, byte[] der) throws Exception {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
    return Files.writeString(dir.resolve(name), "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n");
  }

  @Test
  void rs256TokensVerifyAgainstAPemPublicKey() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair rsa = gen.generateKeyPair();
    Path priv = write("rsa.key", "PRIVATE KEY", rsa.getPrivate().getEncoded());
    Path pub = write("rsa.pub", "PUBLIC KEY", rsa.getPublic().getEncoded());
    TokenVerifier verifier = new TokenVerifier(vertx, keys(List.of(pub), null));

    Caller carol = await(verifier.verify("Bearer " + mint(priv, List.of("llama3*"))));
    assertEquals("carol", carol.subject());
    assertTrue(carol.has(Scope.INFERENCE) && carol.has(Scope.MODELS_READ) && !carol.has(Scope.ADMIN));
    assertTrue(carol.models().allows("llama3.2") && !carol.models().allows("mistral"));
    assertEquals(30, carol.limits().rpm());
    assertTrue(carol.expiresAtMillis() > System.currentTimeMillis());
  }

  @Test
  void es256TokensVerifyAgainstAJwks() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ec = gen.generateKeyPair();
    Path priv = write("ec.key", "PRIVATE KEY", ec.getPrivate().getEncoded());
    ECPublicKey pub = (ECPublicKey) ec.getPublic();
    JsonObject jwk = new JsonObject().put("kty", "EC").put("crv", "P-256").put("alg", "ES256").put("use", "sig")
        .put("x", coordinate(pub.getW().getAffineX())).put("y", coordinate(pub.getW().getAffineY()));
    Path jwks = Files.writeString(dir.resolve("jwks.json"), new JsonObject().put("keys", new JsonArray().add(jwk)).encode());
    TokenVerifier verifier = new TokenVerifier(vertx, keys(List.of(), jwks));

    assertEquals("carol", await(verifier.verify("Bearer " + mint(priv, List.of()))).subject());
    // A token signed by anyone else is refused, and says why.
    KeyPair other = gen.generateKeyPair();
    String forged = mint(write("other.key", "PRIVATE KEY", other.getPrivate().getEncoded()), List.of());
    AuthException refused = (AuthException) assertThrows(Exception.class,
        () -> await(verifier.verify("Bearer " + forged))).getCause();
    assertEquals(401, refused.status());
    assertTrue(refused.getMessage().startsWith("unauthorized: "), refused.getMessage());
    assertFalse(refused.getMessage().contains(forged));
  }

  private static String coordinate(BigInteger v) {
    byte[] raw = v.toByteArray();
    byte[] fixed = new byte[32];
    int n = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - n, fixed, 32 - n, n);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(fixed);
  }

  @Test
  void keyFilesThatCannotWorkStopTheNodeWithOneLine() throws Exception {
    assertEquals("no key to verify client tokens: give --jwt-secret-file, --jwt-public-key or --jwks"
        + " (or --insecure-no-auth for a local experiment)",
        assertThrows(ConfigException.class, () -> keys(List.of(), null)).getMessage());
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    Path priv = write("leak.key", "PRIVATE KEY", gen.generateKeyPair().getPrivate().getEncoded());
    assertTrue(assertThrows(ConfigException.class, () -> keys(List.of(priv), null)).getMessage()
        .contains("holds a private key"));
    Path jwks = Files.writeString(dir.resolve("empty.json"), "{\"keys\":[]}");
    assertTrue(assertThrows(ConfigException.class, () -> keys(List.of(), jwks)).getMessage().contains("has no \"keys\""));
  }

  /**
   * Time claims of the wrong type in a correctly signed token (exp as a string, a bool or null, iat as
   * a list) are a 401, not an exception out of verify: HttpFuzzTest found them answered with 500.
   */
  @Test
  void timeClaimsOfTheWrongTypeAreUnauthorized() throws Exception {
    Path secret = Files.writeString(dir.resolve("hs.secret"), KeyFiles.newHmacSecret() + "\n");
    TokenVerifier verifier = new TokenVerifier(vertx, AuthConfig.of(secret, List.of(), null, null, null,
        Duration.ofSeconds(5), false, Limits.NONE));
    JWTAuth signer = JWTAuth.create(vertx,
        new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions()
            .setAlgorithm("HS256").setBuffer(KeyFiles.hmacSecret("secret", secret))));
    long inAnHour = System.currentTimeMillis() / 1000 + 3600;
    for (JsonObject claims : List.of(
        new JsonObject().put("sub", "x").put("exp", Long.toString(inAnHour)),
        new JsonObject().put("sub", "x").put("exp", true),
        new JsonObject().put("sub", "x").putNull("exp"),
        new JsonObject().put("sub", "x").put("exp", inAnHour).putNull("iat"),
        new JsonObject().put("sub", "x").put("exp", inAnHour).put("iat", new JsonArray().add(1)),
        new JsonObject().put("sub", "x").put("exp", inAnHour).put("nbf", "soon"))) {
      String token = signer.generateToken(claims, new JWTOptions().setAlgorithm("HS256")
          .setNoTimestamp(true));
      Future<Caller> verified;
      try {
        verified = verifier.verify("Bearer " + token);
      } catch (RuntimeException e) {
        throw new AssertionError("verify threw for " + claims, e);
      }
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> await(verified), claims.encode());
      AuthException refusal = (AuthException) failed.getCause();
      assertEquals(401, refusal.status(), claims.encode());
    }
  }

  /** A token whose exp is absurdly far away stays valid on its second request (the cached one) too. */
  @Test
  void anExpFarAwayDoesNotOverflowIntoThePast() throws Exception {
    Path secret = Files.writeString(dir.resolve("far.secret"), KeyFiles.newHmacSecret() + "\n");
    TokenVerifier verifier = new TokenVerifier(vertx, AuthConfig.of(secret, List.of(), null, null, null,
        Duration.ofSeconds(5), false, Limits.NONE));
    JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions()
        .setAlgorithm("HS256").setBuffer(KeyFiles.hmacSecret("secret", secret))));
    for (Object exp : List.of(1e300, Long.MAX_VALUE, Long.MAX_VALUE / 1000)) {
      String token = signer.generateToken(new JsonObject().put("sub", "x").put("exp", exp),
          new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));

      assertEquals("x", await(verifier.verify("Bearer " + token)).subject(), "first use, exp " + exp);
      assertEquals("x", await(verifier.verify("Bearer " + token)).subject(), "cached, exp " + exp);
    }
  }
}
