package io.hivemesh.security;

import io.hivemesh.config.ConfigException;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.util.Arrays;
import java.util.Base64;

/** Reads the key files an operator hands to a command; a bad file is a one-line {@link ConfigException}. */
public final class KeyFiles {

  /** HS256 signs with SHA-256: a shorter secret weakens it (RFC 7518, 3.2). */
  static final int MIN_SECRET_BYTES = 32;

  private static final int MIN_RSA_BITS = 2048;

  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyFiles() {
  }

  /** The secret in {@code file} without the trailing newline an editor or {@code echo} adds. */
  public static Buffer hmacSecret(String option, Path file) {
    byte[] bytes = read(option, file);
    int end = bytes.length;
    while (end > 0 && Character.isWhitespace(bytes[end - 1])) {
      end--;
    }
    if (end < MIN_SECRET_BYTES) {
      throw new ConfigException(option + ": an HS256 secret needs at least " + MIN_SECRET_BYTES + " bytes, "
          + file + " has " + end);
    }
    return Buffer.buffer(Arrays.copyOf(bytes, end));
  }

  /**
   * The text of a PEM file from its first BEGIN line on: Vert.x wants the BEGIN line first, and
   * files exported by some tools start with comments or "Bag Attributes".
   */
  public static String readPem(String option, Path file) {
    String text = new String(read(option, file), StandardCharsets.US_ASCII);
    int begin = text.indexOf("-----BEGIN ");
    if (begin < 0) {
      throw new ConfigException(option + ": " + file + " is not a PEM file (no -----BEGIN line)");
    }
    return text.substring(begin);
  }

  /** RS256 or ES256: the JWT algorithm of a PKCS#8 private key or an X.509 public key in PEM. */
  public static String jwtAlgorithm(String option, String pem) {
    Key key = key(option, pem);
    if (key instanceof RSAKey rsa) {
      if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
        throw new ConfigException(option + ": an RSA key needs at least " + MIN_RSA_BITS + " bits, this one has "
            + rsa.getModulus().bitLength());
      }
      return "RS256";
    }
    if (!isP256(((ECKey) key).getParams())) {
      throw new ConfigException(option + ": an EC key must be on curve P-256 (prime256v1) for ES256");
    }
    return "ES256";
  }

  /** True when {@code pem} starts with a private key, which signs, rather than a public one. */
  static boolean isPrivateKey(String pem) {
    Pem.Block block = Pem.first(pem);
    return block != null && block.label().equals("PRIVATE KEY");
  }

  /** A fresh HS256 secret: 32 random bytes as 43 base64url characters, safe in files and env vars. */
  public static String newHmacSecret() {
    byte[] bytes = new byte[MIN_SECRET_BYTES];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static Key key(String option, String pem) {
    Pem.Block block = Pem.first(pem);
    if (block == null) {
      throw new ConfigException(option + ": no complete PEM block (-----BEGIN ... -----END ...)");
    }
    try {
      return switch (block.label()) {
        case "PRIVATE KEY" -> Pem.privateKey(block.der());
        case "PUBLIC KEY" -> Pem.publicKey(block.der());
        default -> throw new ConfigException(option + ": expected an unencrypted PKCS#8 key (BEGIN PRIVATE KEY) or a "
            + "public key (BEGIN PUBLIC KEY), got BEGIN " + block.label()
            + (block.label().endsWith("PRIVATE KEY") ? "; convert with: openssl pkcs8 -topk8 -nocrypt -in OLD.pem -out NEW.pem" : ""));
      };
    } catch (InvalidKeySpecException e) {
      throw new ConfigException(option + ": not an RSA or EC key (" + block.label() + ")");
    }
  }

  private static boolean isP256(ECParameterSpec params) {
    try {
      AlgorithmParameters p256 = AlgorithmParameters.getInstance("EC");
      p256.init(new ECGenParameterSpec("secp256r1"));
      ECParameterSpec expected = p256.getParameterSpec(ECParameterSpec.class);
      return expected.getCurve().equals(params.getCurve()) && expected.getGenerator().equals(params.getGenerator())
          && expected.getOrder().equals(params.getOrder());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK knows secp256r1", e);
    }
  }

  private static byte[] read(String option, Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(option + ": cannot read " + file + ": " + why(e));
    }
  }

  /** A file problem in words; the JDK's messages for these are often just the path. */
  static String why(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "a file is in the way";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
