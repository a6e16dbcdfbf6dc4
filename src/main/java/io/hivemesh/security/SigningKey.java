package io.hivemesh.security;

import io.hivemesh.config.ConfigException;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A key that signs tokens and its JWT algorithm, in the form vertx-auth-jwt takes: the secret's
 * bytes for HS256, the PKCS#8 PEM text for RS256 and ES256.
 */
public record SigningKey(String algorithm, Buffer material) {

  /** HS256 with the shared secret in {@code file}; the nodes verify with the same file. */
  public static SigningKey hmac(String option, Path file) {
    return new SigningKey("HS256", KeyFiles.hmacSecret(option, file));
  }

  /** RS256 or ES256, as the key in {@code file} says; the nodes verify with its public half. */
  public static SigningKey privateKey(String option, Path file) {
    String pem = KeyFiles.readPem(option, file);
    String algorithm = KeyFiles.jwtAlgorithm(option, pem);
    if (!KeyFiles.isPrivateKey(pem)) {
      throw new ConfigException(option + ": " + file + " holds a public key; tokens are signed with the private key");
    }
    return new SigningKey(algorithm, Buffer.buffer(pem, StandardCharsets.US_ASCII.name()));
  }
}
