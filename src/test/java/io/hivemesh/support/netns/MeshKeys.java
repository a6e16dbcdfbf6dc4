package io.hivemesh.support.netns;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.MeshPki;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a secured mesh across namespaces needs: a mesh CA with a certificate per node (naming every
 * host's address, so clients can check HTTPS), a JWT secret and a token minted with it.
 */
public record MeshKeys(Path pki, Path secret, String token) {

  /** Fresh keys under {@code dir} for {@code nodes}, valid for the addresses of {@code hosts} hosts of {@code net}. */
  public static MeshKeys create(Path dir, NetNs net, int hosts, List<String> nodes) throws Exception {
    Path keys = dir.toAbsolutePath();
    deleteRecursively(keys);
    Path pki = keys.resolve("pki");
    List<String> addresses = java.util.stream.IntStream.rangeClosed(1, hosts).mapToObj(net::address).toList();
    MeshPki.create(pki, nodes, addresses, Duration.ofDays(1));
    Path secret = keys.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret());
    Vertx vertx = Vertx.vertx();
    try {
      String token = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret)).mint(new TokenGrant("it",
          "inference models:read admin", List.of(), null, null, null, null, Duration.ofHours(1)));
      return new MeshKeys(pki, secret, token);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  public String ca() {
    return pki.resolve("ca.crt").toString();
  }

  /** curl options of a client: trust the mesh CA, send the token. */
  public String[] curlAuth() {
    return new String[] {"--cacert", ca(), "-H", "Authorization: Bearer " + token};
  }

  /** The flags that make {@code name} a node of the secured mesh: token check, HTTPS, mutual TLS between nodes. */
  public List<String> nodeFlags(String name) {
    String cert = pki.resolve(name + ".crt").toString();
    String key = pki.resolve(name + ".key").toString();
    return List.of("--jwt-secret-file", secret.toString(), "--tls-cert", cert, "--tls-key", key,
        "--mesh-ca", ca(), "--mesh-cert", cert, "--mesh-key", key);
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
