package io.hivemesh.security;

import io.hivemesh.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * The mesh's own certificate authority and one TLS certificate per node, good for both ends of
 * mutual TLS. BouncyCastle only builds the certificates; keys and signatures come from the JDK.
 */
public final class MeshPki {

  /** The rule of {@code hive node --name}: a node's certificate carries its name. */
  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  private static final Pattern DNS_NAME = Pattern.compile("(\\*\\.)?[A-Za-z0-9][A-Za-z0-9_.-]{0,252}");
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  /** Node certificates start an hour early so a node whose clock lags still accepts them. */
  private static final Duration CLOCK_SKEW = Duration.ofHours(1);
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Authority(X509Certificate cert, PrivateKey key) {
  }

  private MeshPki() {
  }

  /**
   * Writes {@code DIR/NAME.crt} and {@code DIR/NAME.key} for each node, signed by the CA in
   * {@code DIR/ca.crt} and {@code DIR/ca.key}, which is created when absent and reused otherwise,
   * so sites can be added later. Never overwrites a node's files.
   *
   * @param extraSans host names or IP addresses added to every node certificate
   * @return the files written, in order
   */
  public static List<Path> create(Path dir, List<String> nodes, List<String> extraSans, Duration validity) {
    checkNames(nodes);
    List<GeneralName> extra = extraSans.stream().map(MeshPki::generalName).toList();
    for (String node : nodes) {
      for (Path file : List.of(dir.resolve(node + ".crt"), dir.resolve(node + ".key"))) {
        if (Files.exists(file)) {
          throw new ConfigException("--nodes: " + file + " exists; delete " + node + ".crt and " + node
              + ".key first to issue a new certificate for '" + node + "'");
        }
      }
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new ConfigException("--out: cannot create " + dir + ": " + KeyFiles.why(e));
    }
    List<Path> written = new ArrayList<>();
    Authority ca = existingCa(dir);
    if (ca == null) {
      ca = newCa();
      written.add(write(dir.resolve("ca.key"), Pem.encode("PRIVATE KEY", ca.key().getEncoded()), true));
      written.add(write(dir.resolve("ca.crt"), certificatePem(ca.cert()), false));
    }
    Instant now = Instant.now();
    for (String node : nodes) {
      Set<GeneralName> sans = new LinkedHashSet<>(List.of(new GeneralName(GeneralName.dNSName, node),
          new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
      sans.addAll(extra);
      KeyPair pair = newKeyPair();
      X509Certificate cert = nodeCertificate(ca, node, pair.getPublic(), sans, now, validity);
      written.add(write(dir.resolve(node + ".key"), Pem.encode("PRIVATE KEY", pair.getPrivate().getEncoded()), true));
      written.add(write(dir.resolve(node + ".crt"), certificatePem(cert), false));
    }
    return written;
  }

  private static void checkNames(List<String> nodes) {
    Set<String> seen = new LinkedHashSet<>();
    for (String node : nodes) {
      if (!NODE_NAME.matcher(node).matches()) {
        throw new ConfigException("--nodes: expected letters, digits, '.', '_' or '-' (at most 63), got '" + node + "'");
      }
      if (node.equals("ca")) {
        throw new ConfigException("--nodes: 'ca' names the CA's own files; choose another node name");
      }
      if (!seen.add(node)) {
        throw new ConfigException("--nodes: '" + node + "' is named twice");
      }
    }
  }

  /** An IP address when the entry is one, else a DNS name. */
  private static GeneralName generalName(String san) {
    String ip = san.startsWith("[") && san.endsWith("]") ? san.substring(1, san.length() - 1) : san;
    if (IPAddress.isValid(ip)) {
      return new GeneralName(GeneralName.iPAddress, ip);
    }
    if (!DNS_NAME.matcher(san).matches()) {
      throw new ConfigException("--san: expected a host name or an IP address, got '" + san + "'");
    }
    return new GeneralName(GeneralName.dNSName, san);
  }

  /** The CA in {@code dir}, or null when there is none yet. */
  private static Authority existingCa(Path dir) {
    Path crt = dir.resolve("ca.crt");
    Path key = dir.resolve("ca.key");
    if (!Files.exists(crt) && !Files.exists(key)) {
      return null;
    }
    if (!Files.exists(crt) || !Files.exists(key)) {
      throw new ConfigException("--out: " + (Files.exists(crt) ? crt + " has no " + key : key + " has no " + crt)
          + "; restore it, or remove both for a new CA that existing nodes will not trust");
    }
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(crt)) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException e) {
      throw new ConfigException("--out: cannot read " + crt + ": " + KeyFiles.why(e));
    } catch (GeneralSecurityException e) {
      throw new ConfigException("--out: " + crt + " is not a PEM certificate");
    }
    if (cert.getBasicConstraints() < 0) {
      throw new ConfigException("--out: " + crt + " is not a CA certificate");
    }
    Pem.Block block = Pem.first(KeyFiles.readPem("--out", key));
    String notPkcs8 = "--out: " + key + " is not an unencrypted PKCS#8 private key (BEGIN PRIVATE KEY)";
    if (block == null || !block.label().equals("PRIVATE KEY")) {
      throw new ConfigException(notPkcs8);
    }
    PrivateKey privateKey;
    try {
      privateKey = Pem.privateKey(block.der());
    } catch (InvalidKeySpecException e) {
      throw new ConfigException(notPkcs8);
    }
    if (!belongsTogether(privateKey, cert.getPublicKey())) {
      throw new ConfigException("--out: " + key + " is not the key of " + crt);
    }
    return new Authority(cert, privateKey);
  }

  private static boolean belongsTogether(PrivateKey key, PublicKey publicKey) {
    try {
      byte[] probe = new byte[32];
      RANDOM.nextBytes(probe);
      Signature signer = Signature.getInstance(signatureAlgorithm(key));
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(signatureAlgorithm(key));
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static Authority newCa() {
    KeyPair pair = newKeyPair();
    Instant now = Instant.now();
    X500Name name = commonName("Hive mesh CA " + HexFormat.of().formatHex(randomBytes(4)));
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
          Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(CA_VALIDITY)), name, pair.getPublic())
          // Path length 0: the CA signs node certificates, never another CA.
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new Authority(sign(builder, pair.getPrivate()), pair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build the CA certificate", e);
    }
  }

  private static X509Certificate nodeCertificate(Authority ca, String node, PublicKey key, Set<GeneralName> sans,
      Instant now, Duration validity) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.cert(), serial(),
          Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(validity)), commonName(node), key)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          // Every node is a server to its peers and a client of them.
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.cert()));
      return sign(builder, ca.key());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build the certificate of " + node, e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** Our CAs are EC; a CA brought by the operator may be RSA. */
  private static String signatureAlgorithm(PrivateKey key) {
    return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has EC P-256", e);
    }
  }

  private static X500Name commonName(String cn) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
  }

  /** 128 random bits, positive and never zero (RFC 5280, 4.1.2.2). */
  private static BigInteger serial() {
    return new BigInteger(1, randomBytes(16)).setBit(127);
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static String certificatePem(X509Certificate cert) {
    try {
      return Pem.encode("CERTIFICATE", cert.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a certificate just built encodes", e);
    }
  }

  /**
   * Writes through a temporary file in the same directory, then renames it into place, so a file
   * is never seen half-written; a key is readable by its owner only from the first byte on.
   */
  private static Path write(Path file, String pem, boolean secret) {
    Path tmp = null;
    try {
      // On POSIX a temporary file starts as rw-------.
      tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"));
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new ConfigException("--out: cannot write " + file + ": " + KeyFiles.why(e));
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static void deleteQuietly(Path tmp) {
    if (tmp == null) {
      return;
    }
    try {
      Files.deleteIfExists(tmp);
    } catch (IOException e) {
      // a stray .tmp file is harmless; the error that matters is already on its way
    }
  }
}
