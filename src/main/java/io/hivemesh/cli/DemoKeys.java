package io.hivemesh.cli;

import io.hivemesh.config.ConfigException;
import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.MeshPki;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The demo's security material, kept in one directory and reused by later runs: a mesh CA and a
 * certificate per site, a JWT secret, and a day-long token for the user.
 */
record DemoKeys(Path dir, String token) {

  static DemoKeys prepare(Path dir, List<String> sites) {
    List<String> missing = sites.stream().filter(s -> !Files.exists(dir.resolve(s + ".crt"))).toList();
    if (!missing.isEmpty()) {
      MeshPki.create(dir, missing, List.of(), Duration.ofDays(365));
    }
    Path secret = dir.resolve("jwt.secret");
    Vertx vertx = Vertx.vertx();
    try {
      if (!Files.exists(secret)) {
        Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
      }
      String token = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret)).mint(new TokenGrant("demo",
          "inference models:read admin", List.of(), null, null, null, null, Duration.ofHours(24)));
      Files.writeString(dir.resolve("token"), token + "\n");
      return new DemoKeys(dir, token);
    } catch (IOException e) {
      throw new ConfigException("--dir: cannot write the demo's keys in " + dir + ": " + e.getMessage());
    } finally {
      vertx.close();
    }
  }

  List<String> nodeArgs(String site) {
    String cert = dir.resolve(site + ".crt").toString();
    String key = dir.resolve(site + ".key").toString();
    return List.of("--jwt-secret-file", secret(), "--tls-cert", cert, "--tls-key", key,
        "--mesh-ca", ca(), "--mesh-cert", cert, "--mesh-key", key);
  }

  String ca() {
    return dir.resolve("ca.crt").toString();
  }

  String secret() {
    return dir.resolve("jwt.secret").toString();
  }

  String tokenFile() {
    return dir.resolve("token").toString();
  }
}
