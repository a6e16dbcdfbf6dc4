package io.hivemesh.security;

import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM text: base64 DER between a BEGIN and an END line of the same label. */
final class Pem {

  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

  /** RSA first, then EC: the two key types JWTs and the mesh CA use. */
  private static final String[] KEY_TYPES = {"RSA", "EC"};

  /** One decoded block, e.g. label {@code PRIVATE KEY}. */
  record Block(String label, byte[] der) {
  }

  private Pem() {
  }

  static String encode(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  /** The first complete block of {@code text}, or null when there is none. */
  static Block first(String text) {
    Matcher m = BLOCK.matcher(text);
    if (!m.find()) {
      return null;
    }
    try {
      return new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2)));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** An RSA or EC key from PKCS#8 DER; the DER names its own algorithm. */
  static PrivateKey privateKey(byte[] pkcs8) throws InvalidKeySpecException {
    for (String type : KEY_TYPES) {
      try {
        return factory(type).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (InvalidKeySpecException e) {
        // not this type; try the next
      }
    }
    throw new InvalidKeySpecException("neither an RSA nor an EC private key");
  }

  /** An RSA or EC key from X.509 SubjectPublicKeyInfo DER. */
  static PublicKey publicKey(byte[] spki) throws InvalidKeySpecException {
    for (String type : KEY_TYPES) {
      try {
        return factory(type).generatePublic(new X509EncodedKeySpec(spki));
      } catch (InvalidKeySpecException e) {
        // not this type; try the next
      }
    }
    throw new InvalidKeySpecException("neither an RSA nor an EC public key");
  }

  private static KeyFactory factory(String type) {
    try {
      return KeyFactory.getInstance(type);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has " + type, e);
    }
  }
}
