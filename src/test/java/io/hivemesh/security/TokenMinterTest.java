package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Tokens minted here pass vertx-auth-jwt's verification with the matching public key or secret. */
@ExtendWith(VertxExtension.class)
class TokenMinterTest {

  @TempDir
  Path dir;

  static final TokenGrant GRANT = new TokenGrant("team-a", "inference models:read", List.of("llama3.2", "phi3"),
      60, 2, "hive-admin", "hive-mesh", Duration.ofHours(2));

  /** A key pair as the operator would hand it over: private key in PKCS#8 PEM, public in X.509 PEM. */
  static KeyPair keyPair(String type) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(type);
    if (type.equals("EC")) {
      generator.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      generator.initialize(2048);
    }
    return generator.generateKeyPair();
  }

  static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  static User verify(Vertx vertx, String algorithm, Buffer key, String token) throws Exception {
    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(key))
        .setJWTOptions(new JWTOptions().setIssuer("hive-admin").addAudience("hive-mesh")));
    return auth.authenticate(new TokenCredentials(token)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static void assertGrant(User user, long mintedAt) {
    JsonObject claims = user.attributes().getJsonObject("accessToken");
    assertEquals("team-a", claims.getString("sub"));
    assertEquals("inference models:read", claims.getString("scope"));
    assertEquals(new JsonArray().add("llama3.2").add("phi3"), claims.getJsonArray("models"));
    assertEquals(new JsonObject().put("rpm", 60).put("concurrent", 2), claims.getJsonObject("limits"));
    assertEquals("hive-admin", claims.getString("iss"));
    assertEquals("hive-mesh", claims.getString("aud"));
    long iat = claims.getLong("iat");
    assertTrue(Math.abs(iat - mintedAt) <= 2, "iat " + iat + " vs " + mintedAt);
    assertEquals(iat + 7200, claims.getLong("exp"));
  }

  @Test
  void hs256TokensVerifyWithTheSameSecret(Vertx vertx) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), KeyFiles.newHmacSecret() + "\n");
    String token = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret)).mint(GRANT);
    assertEquals("HS256", header(token).getString("alg"));
    assertGrant(verify(vertx, "HS256", KeyFiles.hmacSecret("--jwt-secret-file", secret), token), Instant.now().getEpochSecond());

    Path other = Files.writeString(dir.resolve("other"), KeyFiles.newHmacSecret());
    assertThrows(Exception.class, () -> verify(vertx, "HS256", KeyFiles.hmacSecret("--jwt-secret-file", other), token));
  }

  @Test
  void rs256AndEs256TokensVerifyWithThePublicKey(Vertx vertx) throws Exception {
    for (String type : List.of("RSA", "EC")) {
      KeyPair pair = keyPair(type);
      Path key = Files.writeString(dir.resolve(type + ".key"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
      String publicPem = pem("PUBLIC KEY", pair.getPublic().getEncoded());
      String algorithm = type.equals("RSA") ? "RS256" : "ES256";
      assertEquals(algorithm, KeyFiles.jwtAlgorithm("--jwt-public-key", publicPem));

      String token = new TokenMinter(vertx, SigningKey.privateKey("--private-key", key)).mint(GRANT);
      assertEquals(algorithm, header(token).getString("alg"));
      assertGrant(verify(vertx, algorithm, Buffer.buffer(publicPem), token), Instant.now().getEpochSecond());
    }
  }

  @Test
  void optionalClaimsAreLeftOut(Vertx vertx) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), KeyFiles.newHmacSecret());
    TokenGrant bare = new TokenGrant("app", "inference", List.of(), null, null, null, null, Duration.ofMinutes(5));
    String token = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret)).mint(bare);
    JsonObject claims = payload(token);
    assertEquals(List.of("sub", "iat", "exp", "scope"), List.copyOf(claims.fieldNames()));
    assertEquals(300, claims.getLong("exp") - claims.getLong("iat"));
  }

  @Test
  void keyFilesThatCannotSignAreOneLineErrors() throws Exception {
    Path shortSecret = Files.writeString(dir.resolve("short"), "too-short\n");
    assertEquals("--jwt-secret-file: an HS256 secret needs at least 32 bytes, " + shortSecret + " has 9",
        assertThrows(ConfigException.class, () -> KeyFiles.hmacSecret("--jwt-secret-file", shortSecret)).getMessage());
    Path missing = dir.resolve("missing");
    assertEquals("--secret-file: cannot read " + missing + ": no such file or directory",
        assertThrows(ConfigException.class, () -> KeyFiles.hmacSecret("--secret-file", missing)).getMessage());

    Path notPem = Files.writeString(dir.resolve("not.pem"), "ssh-ed25519 AAAA...");
    assertEquals("--private-key: " + notPem + " is not a PEM file (no -----BEGIN line)",
        assertThrows(ConfigException.class, () -> SigningKey.privateKey("--private-key", notPem)).getMessage());

    KeyPair rsa = keyPair("RSA");
    Path pkcs1 = Files.writeString(dir.resolve("pkcs1.pem"), pem("RSA PRIVATE KEY", rsa.getPrivate().getEncoded()));
    String message = assertThrows(ConfigException.class, () -> SigningKey.privateKey("--private-key", pkcs1)).getMessage();
    assertTrue(message.contains("got BEGIN RSA PRIVATE KEY") && message.contains("openssl pkcs8 -topk8 -nocrypt"), message);

    Path publicOnly = Files.writeString(dir.resolve("public.pem"), pem("PUBLIC KEY", rsa.getPublic().getEncoded()));
    assertEquals("--private-key: " + publicOnly + " holds a public key; tokens are signed with the private key",
        assertThrows(ConfigException.class, () -> SigningKey.privateKey("--private-key", publicOnly)).getMessage());

    KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
    p384.initialize(new ECGenParameterSpec("secp384r1"));
    String p384Pem = pem("PUBLIC KEY", p384.generateKeyPair().getPublic().getEncoded());
    assertEquals("--jwt-public-key: an EC key must be on curve P-256 (prime256v1) for ES256",
        assertThrows(ConfigException.class, () -> KeyFiles.jwtAlgorithm("--jwt-public-key", p384Pem)).getMessage());

    KeyPairGenerator small = KeyPairGenerator.getInstance("RSA");
    small.initialize(1024);
    String smallPem = pem("PRIVATE KEY", small.generateKeyPair().getPrivate().getEncoded());
    assertEquals("--private-key: an RSA key needs at least 2048 bits, this one has 1024",
        assertThrows(ConfigException.class, () -> KeyFiles.jwtAlgorithm("--private-key", smallPem)).getMessage());
  }

  @Test
  void pemFilesMayStartWithComments() throws Exception {
    String pem = pem("PRIVATE KEY", keyPair("EC").getPrivate().getEncoded());
    Path file = Files.writeString(dir.resolve("exported.pem"), "Bag Attributes\n    localKeyID: 01\n" + pem);
    assertEquals(pem, KeyFiles.readPem("--private-key", file));
  }

  @Test
  void newSecretsAreLongEnoughAndDifferent() {
    String a = KeyFiles.newHmacSecret();
    assertEquals(43, a.length());
    assertTrue(a.getBytes(StandardCharsets.US_ASCII).length >= KeyFiles.MIN_SECRET_BYTES);
    assertFalse(a.equals(KeyFiles.newHmacSecret()));
    assertTrue(a.matches("[A-Za-z0-9_-]+"));
  }

  static JsonObject header(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0]), StandardCharsets.UTF_8));
  }

  static JsonObject payload(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }
}
