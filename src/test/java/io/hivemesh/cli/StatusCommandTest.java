package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hive status} against a running 3-node mesh: the table an operator reads. */
class StatusCommandTest {

  @TempDir
  Path dir;

  @Test
  void showsEverySiteItsModelsAndASiteThatWentDown() throws Exception {
    Vertx vertx = Vertx.vertx();
    Path secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    TokenMinter minter = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret));
    String admin = minter.mint(new TokenGrant("ops", "inference models:read admin", List.of(), null, null, null, null,
        Duration.ofHours(1)));
    String user = minter.mint(new TokenGrant("user", "inference models:read", List.of(), null, null, null, null,
        Duration.ofHours(1)));
    String[] auth = {"--jwt-secret-file", secret.toString()};
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(0);
    try (TestMesh mesh = new TestMesh()) {
      mesh.add("north", sim.withModels("llama3.2", "phi3"), auth);
      mesh.add("south", sim.withModels("mistral"), auth);
      mesh.add("east", sim.withModels("nomic-embed-text"), auth);
      mesh.awaitConverged();
      String url = "http://127.0.0.1:" + mesh.port("south");
      assertEquals(200, Http.post(mesh.port("south"), "/api/generate", "{\"model\":\"phi3\",\"prompt\":\"hi\","
          + "\"stream\":false}", "Authorization", "Bearer " + admin).statusCode());

      // north's Ollama reports phi3 loaded on its next poll; the table follows.
      TestMesh.awaitTrue("status shows phi3 loaded at north", Duration.ofSeconds(20),
          () -> CliRun.of("status", "--url", url, "--token", admin).out().contains("phi3:latest*"));
      CliRun run = CliRun.of("status", "--url", url, "--token", admin);
      assertEquals(0, run.code(), run.err());
      List<String> lines = run.out().lines().toList();
      assertEquals("mesh as seen by node south: 3 of 3 sites up", lines.get(0), run.out());
      assertTrue(lines.get(1).startsWith("SITE"), run.out());
      assertEquals(5, lines.size(), run.out());
      assertTrue(row(lines, "north").matches("north\\s+up\\s+1\\s+0\\s+0\\s+\\S+\\s+.*llama3\\.2:latest, phi3:latest\\*"),
          "north: phi3 is loaded after the request:\n" + run.out());
      assertTrue(row(lines, "south (this node)").matches("south \\(this node\\)\\s+up\\s+.*mistral:latest"), run.out());
      assertTrue(row(lines, "east").matches("east\\s+up\\s+.*nomic-embed-text:latest"), run.out());

      CliRun refused = CliRun.of("status", "--url", url, "--token", user);
      assertEquals(1, refused.code());
      assertTrue(refused.err().startsWith("hive: " + url + " answered 403: "), refused.err());

      TestMesh.await(mesh.sims.get("east").close());
      TestMesh.awaitTrue("status shows east down", Duration.ofSeconds(20), () -> {
        CliRun again = CliRun.of("status", "--url", url, "--token", admin);
        return again.code() == 0 && row(again.out().lines().toList(), "east").matches("east\\s+down\\s+.*");
      });
    } finally {
      TestMesh.await(vertx.close());
    }
  }

  @Test
  void anUnreachableNodeIsOneLine() {
    CliRun run = CliRun.of("status", "--url", "http://127.0.0.1:" + TestMesh.freePort(), "--token", "x");
    assertEquals(1, run.code());
    assertTrue(run.err().startsWith("hive: cannot reach http://127.0.0.1:"), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }

  private static String row(List<String> lines, String site) {
    return lines.stream().filter(l -> l.startsWith(site + " ")).findFirst().orElse("").trim();
  }
}
