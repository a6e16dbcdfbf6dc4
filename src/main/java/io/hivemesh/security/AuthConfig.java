package io.hivemesh.security;

import io.hivemesh.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.JWTOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a node checks its clients: the keys tokens must be signed with, the claims it insists on,
 * and the quota of subjects whose tokens carry none. Keys are read and checked when the node's
 * config is parsed, so a bad key file is one line at startup, never a failed request later.
 *
 * @param jwt      verification keys and claim checks; {@code null} only with {@code insecure}
 * @param insecure {@code --insecure-no-auth}: every request is allowed everything
 * @param defaults quota of subjects whose token sets none
 */
public record AuthConfig(JWTAuthOptions jwt, boolean insecure, Limits defaults) {

  public static AuthConfig of(Path secretFile, List<Path> publicKeys, Path jwksFile, String issuer,
                              String audience, Duration leeway, boolean insecure, Limits defaults) {
    JWTAuthOptions options = new JWTAuthOptions();
    if (secretFile != null) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
          .setBuffer(KeyFiles.hmacSecret("--jwt-secret-file", secretFile)));
    }
    for (Path key : publicKeys) {
      String pem = KeyFiles.readPem("--jwt-public-key", key);
      if (pem.contains("PRIVATE KEY")) {
        throw new ConfigException("--jwt-public-key: " + key + " holds a private key; give nodes only the public key");
      }
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(KeyFiles.jwtAlgorithm("--jwt-public-key", pem))
          .setBuffer(pem));
    }
    if (jwksFile != null) {
      options.setJwks(readJwks(jwksFile));
    }
    boolean keyed = options.getPubSecKeys() != null && !options.getPubSecKeys().isEmpty()
        || options.getJwks() != null && !options.getJwks().isEmpty();
    if (!keyed && !insecure) {
      // vertx-auth-jwt without a key accepts unsigned tokens: never run that way by accident.
      throw new ConfigException("no key to verify client tokens: give --jwt-secret-file, --jwt-public-key or --jwks"
          + " (or --insecure-no-auth for a local experiment)");
    }
    if (keyed && insecure) {
      throw new ConfigException("--insecure-no-auth: conflicts with the JWT keys given; choose one");
    }
    JWTOptions checks = new JWTOptions().setLeeway((int) leeway.toSeconds());
    if (issuer != null) {
      checks.setIssuer(issuer);
    }
    if (audience != null) {
      checks.setAudience(List.of(audience));
    }
    options.setJWTOptions(checks);
    return new AuthConfig(insecure ? null : options, insecure, defaults);
  }

  private static List<JsonObject> readJwks(Path file) {
    try {
      JsonObject set = new JsonObject(Files.readString(file));
      JsonArray keys = set.getJsonArray("keys");
      if (keys == null || keys.isEmpty()) {
        throw new ConfigException("--jwks: " + file + " has no \"keys\"");
      }
      List<JsonObject> out = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        JsonObject k = keys.getJsonObject(i);
        if (k.containsKey("d")) {
          throw new ConfigException("--jwks: " + file + " holds a private key; give nodes only public keys");
        }
        out.add(k);
      }
      return out;
    } catch (IOException e) {
      throw new ConfigException("--jwks: cannot read " + file);
    } catch (ClassCastException | io.vertx.core.json.DecodeException e) {
      throw new ConfigException("--jwks: " + file + " is not a JSON Web Key Set");
    }
  }
}
