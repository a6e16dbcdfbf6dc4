package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.config.ConfigException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA and node certificates: chains, extensions, key files, reuse of the CA, refusals. */
class MeshPkiTest {

  @TempDir
  Path dir;

  static X509Certificate cert(Path file) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  static PrivateKey key(Path file) throws Exception {
    String pem = Files.readString(file);
    assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 PEM: " + pem);
    String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").strip();
    body.lines().forEach(line -> assertTrue(line.length() <= 64));
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(body)));
  }

  @Test
  void nodeCertificatesChainToTheCaAndCarryTheirNames() throws Exception {
    List<Path> written = MeshPki.create(dir, List.of("a", "b"), List.of("10.1.0.5", "gpu.example.org", "[::1]"),
        Duration.ofDays(30));
    assertEquals(List.of("ca.key", "ca.crt", "a.key", "a.crt", "b.key", "b.crt"),
        written.stream().map(p -> p.getFileName().toString()).toList());

    X509Certificate ca = cert(dir.resolve("ca.crt"));
    ca.verify(ca.getPublicKey());
    assertTrue(ca.getSubjectX500Principal().getName().startsWith("CN=Hive mesh CA "));
    assertTrue(ca.getBasicConstraints() >= 0);
    assertTrue(ca.getKeyUsage()[5], "keyCertSign");
    assertTrue(ca.getCriticalExtensionOIDs().containsAll(List.of("2.5.29.19", "2.5.29.15")));

    for (String node : List.of("a", "b")) {
      X509Certificate cert = cert(dir.resolve(node + ".crt"));
      cert.verify(ca.getPublicKey());
      cert.checkValidity();
      assertEquals("CN=" + node, cert.getSubjectX500Principal().getName());
      assertEquals(ca.getSubjectX500Principal(), cert.getIssuerX500Principal());
      assertEquals(-1, cert.getBasicConstraints());
      assertTrue(cert.getSerialNumber().signum() > 0);
      assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), cert.getExtendedKeyUsage());
      assertTrue(cert.getNotAfter().toInstant().isBefore(Instant.now().plus(Duration.ofDays(30)).plusSeconds(60)));
      List<String> sans = cert.getSubjectAlternativeNames().stream().map(san -> san.get(0) + ":" + san.get(1)).toList();
      assertEquals(List.of("2:" + node, "2:localhost", "7:127.0.0.1", "7:10.1.0.5", "2:gpu.example.org", "7:0:0:0:0:0:0:0:1"),
          sans);
      assertKeyMatches(dir.resolve(node + ".key"), cert);
    }
    assertKeyMatches(dir.resolve("ca.key"), ca);
    assertFalse(cert(dir.resolve("a.crt")).getSerialNumber().equals(cert(dir.resolve("b.crt")).getSerialNumber()));
  }

  private static void assertKeyMatches(Path keyFile, X509Certificate cert) throws Exception {
    byte[] message = "hello mesh".getBytes();
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key(keyFile));
    signer.update(message);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(cert.getPublicKey());
    verifier.update(message);
    assertTrue(verifier.verify(signature), keyFile + " is the key of its certificate");
  }

  @Test
  void aLaterRunReusesTheCaAndNeverOverwritesANode() throws Exception {
    MeshPki.create(dir, List.of("a", "b"), List.of(), Duration.ofDays(1));
    byte[] caBefore = Files.readAllBytes(dir.resolve("ca.crt"));
    byte[] aBefore = Files.readAllBytes(dir.resolve("a.crt"));

    List<Path> written = MeshPki.create(dir, List.of("c"), List.of(), Duration.ofDays(1));
    assertEquals(List.of(dir.resolve("c.key"), dir.resolve("c.crt")), written);
    assertArrayEquals(caBefore, Files.readAllBytes(dir.resolve("ca.crt")));
    cert(dir.resolve("c.crt")).verify(cert(dir.resolve("ca.crt")).getPublicKey());

    ConfigException e = assertThrows(ConfigException.class,
        () -> MeshPki.create(dir, List.of("d", "a"), List.of(), Duration.ofDays(1)));
    assertEquals("--nodes: " + dir.resolve("a.crt") + " exists; delete a.crt and a.key first to issue a new "
        + "certificate for 'a'", e.getMessage());
    assertArrayEquals(aBefore, Files.readAllBytes(dir.resolve("a.crt")));
    assertFalse(Files.exists(dir.resolve("d.crt")), "a refused run writes nothing");
  }

  @Test
  void keysAreReadableByTheirOwnerOnly() throws Exception {
    Path nested = dir.resolve("pki/mesh");
    MeshPki.create(nested, List.of("a"), List.of(), Duration.ofDays(1));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.resolve("a.key"))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.resolve("ca.key"))));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.resolve("a.crt"))));
    try (var files = Files.list(nested)) {
      assertEquals(List.of("a.crt", "a.key", "ca.crt", "ca.key"), files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void badNamesAndABrokenCaAreOneLineErrors() throws Exception {
    assertEquals("--nodes: expected letters, digits, '.', '_' or '-' (at most 63), got '../x'",
        assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("../x"), List.of(), Duration.ofDays(1))).getMessage());
    assertEquals("--nodes: 'ca' names the CA's own files; choose another node name",
        assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("ca"), List.of(), Duration.ofDays(1))).getMessage());
    assertEquals("--nodes: 'a' is named twice",
        assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("a", "a"), List.of(), Duration.ofDays(1))).getMessage());
    assertEquals("--san: expected a host name or an IP address, got 'not a host'",
        assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("a"), List.of("not a host"), Duration.ofDays(1))).getMessage());

    MeshPki.create(dir, List.of("a"), List.of(), Duration.ofDays(1));
    Files.delete(dir.resolve("ca.key"));
    assertTrue(assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("b"), List.of(), Duration.ofDays(1)))
        .getMessage().startsWith("--out: " + dir.resolve("ca.crt") + " has no " + dir.resolve("ca.key")));
    Files.copy(dir.resolve("a.key"), dir.resolve("ca.key"));
    assertEquals("--out: " + dir.resolve("ca.key") + " is not the key of " + dir.resolve("ca.crt"),
        assertThrows(ConfigException.class, () -> MeshPki.create(dir, List.of("b"), List.of(), Duration.ofDays(1))).getMessage());
  }
}
