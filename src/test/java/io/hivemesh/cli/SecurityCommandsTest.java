package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code hive certs} and {@code hive token} as an operator runs them. */
@ExtendWith(VertxExtension.class)
class SecurityCommandsTest {

  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @TempDir
  Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  private static void assertOneLine(CliRun r, String expected) {
    assertEquals(2, r.code());
    assertEquals("hive: " + expected + System.lineSeparator(), r.err());
    assertEquals("", r.out());
  }

  @Test
  void certsSaysWhatItWroteAndWhereTheCaKeyStays() {
    Path out = dir.resolve("pki");
    CliRun r = run("certs", "--out", out.toString(), "--nodes", "lab-gpu,workstation", "--san", "10.1.0.5", "--days", "90");
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(List.of("wrote " + out.resolve("ca.key"), "wrote " + out.resolve("ca.crt"),
        "wrote " + out.resolve("lab-gpu.key"), "wrote " + out.resolve("lab-gpu.crt"),
        "wrote " + out.resolve("workstation.key"), "wrote " + out.resolve("workstation.crt")), lines.subList(0, 6));
    assertTrue(lines.get(6).startsWith("keep " + out.resolve("ca.key") + " in " + out + " and never copy it to a node"));

    CliRun again = run("certs", "--out", out.toString(), "--nodes", "cloud-vm");
    assertEquals(0, again.code(), again.err());
    assertEquals("signed with the existing CA in " + out.resolve("ca.crt"), again.out().lines().findFirst().orElseThrow());

    assertOneLine(run("certs", "--out", out.toString(), "--nodes", "lab-gpu"),
        "--nodes: " + out.resolve("lab-gpu.crt") + " exists; delete lab-gpu.crt and lab-gpu.key first to issue a new certificate for 'lab-gpu'");
    assertOneLine(run("certs", "--out", out.toString()), "--nodes: name at least one node, e.g. --nodes lab-gpu,workstation");
    assertOneLine(run("certs", "--out", out.toString(), "--nodes", "x", "--days", "0"), "--days: expected a number from 1 to 36500, got '0'");
  }

  @Test
  void tokenPrintsOnlyTheToken(Vertx vertx) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), SECRET + "\n");
    CliRun r = run("token", "--sub", "team-a", "--models", "llama3.2,phi3", "--rpm", "60", "--concurrent", "2",
        "--ttl", "30m", "--secret-file", secret.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertTrue(r.out().matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+" + System.lineSeparator()), r.out());

    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    User user = auth.authenticate(new TokenCredentials(r.out().strip())).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    JsonObject claims = user.attributes().getJsonObject("accessToken");
    assertEquals("team-a", claims.getString("sub"));
    assertEquals("inference models:read", claims.getString("scope"));
    assertEquals(new JsonArray().add("llama3.2").add("phi3"), claims.getJsonArray("models"));
    assertEquals(new JsonObject().put("rpm", 60).put("concurrent", 2), claims.getJsonObject("limits"));
    assertTrue(Math.abs(claims.getLong("exp") - Instant.now().plusSeconds(1800).getEpochSecond()) <= 2);
    assertFalse(claims.containsKey("iss") || claims.containsKey("aud"));
  }

  @Test
  void tokenMistakesAreOneLine() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), SECRET);
    Path shortSecret = Files.writeString(dir.resolve("short"), "abc\n");
    Path notPem = Files.writeString(dir.resolve("key.txt"), "just text");
    assertOneLine(run("token", "--sub", "a"), "name exactly one key: --secret-file (HS256) or --private-key (RS256, ES256)");
    assertOneLine(run("token", "--sub", "a", "--secret-file", secret.toString(), "--private-key", notPem.toString()),
        "name exactly one key: --secret-file (HS256) or --private-key (RS256, ES256)");
    assertOneLine(run("token", "--sub", "a", "--secret-file", shortSecret.toString()),
        "--secret-file: an HS256 secret needs at least 32 bytes, " + shortSecret + " has 3");
    assertOneLine(run("token", "--sub", "a", "--private-key", notPem.toString()),
        "--private-key: " + notPem + " is not a PEM file (no -----BEGIN line)");
    assertOneLine(run("token", "--secret-file", secret.toString()), "--sub is required (or set HIVE_SUB)");
    assertOneLine(run("token", "--sub", "a", "--ttl", "0s", "--secret-file", secret.toString()), "--ttl: expected at least 1s, got '0s'");
    assertOneLine(run("token", "--sub", "a", "--rpm", "-1", "--secret-file", secret.toString()),
        "--rpm: expected a number from 1 to 2147483647, got '-1'");
  }

  @Test
  void helpListsTheOptions() {
    CliRun certs = run("certs", "--help");
    assertEquals(0, certs.code());
    assertTrue(certs.out().contains("--san VALUE") && certs.out().contains("[HIVE_OUT]"));
    CliRun token = run("token", "--help");
    assertEquals(0, token.code());
    assertTrue(token.out().contains("--private-key VALUE") && token.out().contains("(default inference models:read)"));
    assertTrue(run("--help").out().contains("token  mint a JWT"));
  }
}
