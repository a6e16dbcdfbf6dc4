package io.hivemesh.observe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hivemesh.security.KeyFiles;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mesh page in a real browser: Debian's chromium driven by playwright-core (src/test/ui) against
 * a 3-node mesh. It must show every site with its models, and mark a site down once its Ollama
 * stops. Leaves a screenshot in target/ui.png (docs/ui.png is a copy of one). Needs chromium, node and npm; skipped without them,
 * except under CI=true, where a missing piece fails the build.
 */
class MeshUiBrowserTest {

  private static final Path UI = Path.of("src/test/ui");
  private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("HIVE_CHROMIUM", "/usr/bin/chromium"));
  // Under target/, so that a build never leaves the committed docs/ui.png modified.
  private static final Path SCREENSHOT = Path.of("target/ui.png");

  @TempDir
  Path dir;

  @Test
  void thePageShowsEverySiteAndASiteWhoseOllamaStopsAsDown() throws Exception {
    needs(Files.isExecutable(CHROMIUM), "no chromium at " + CHROMIUM + " (apt-get install chromium)");
    needs(onPath("node"), "no node on the PATH (apt-get install nodejs)");
    if (!Files.isDirectory(UI.resolve("node_modules/playwright-core"))) {
      needs(onPath("npm"), "no npm on the PATH to install playwright-core (apt-get install npm)");
      Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(UI.toFile())
          .redirectErrorStream(true).redirectOutput(dir.resolve("npm.log").toFile()).start();
      assertTrue(npm.waitFor(5, TimeUnit.MINUTES), "npm ci did not finish in 5 minutes");
      assertEquals(0, npm.exitValue(), "npm ci failed: " + Files.readString(dir.resolve("npm.log")));
    }

    Vertx vertx = Vertx.vertx();
    Path secret = dir.resolve("jwt.secret");
    Files.writeString(secret, KeyFiles.newHmacSecret() + "\n");
    String admin = new TokenMinter(vertx, SigningKey.hmac("--secret-file", secret))
        .mint(new TokenGrant("ops", "inference models:read admin", List.of(), null, null, null, null, Duration.ofHours(1)));
    String[] auth = {"--jwt-secret-file", secret.toString()};
    SimOptions sim = SimOptions.defaults().withLoadMs(0).withParallel(4).withTokensPerSecond(100);
    Map<String, List<String>> models = Map.of("lab-gpu", List.of("llama3.2:latest", "qwen2.5:7b"),
        "workstation", List.of("llama3.2:latest", "mistral:latest"), "cloud-vm", List.of("phi3:latest"));
    AtomicBoolean traffic = new AtomicBoolean(true);
    Process browser = null;
    try (TestMesh mesh = new TestMesh()) {
      mesh.add("lab-gpu", sim.withModels("llama3.2", "qwen2.5:7b"), auth);
      mesh.add("workstation", sim.withModels("llama3.2", "mistral"), auth);
      mesh.add("cloud-vm", sim.withModels("phi3"), auth);
      mesh.awaitConverged();
      int port = mesh.port("lab-gpu");
      // Requests while the page loads, so that its rates and charts have something to show.
      Thread load = new Thread(() -> {
        int i = 0;
        while (traffic.get()) {
          String model = List.of("llama3.2", "mistral", "phi3", "qwen2.5:7b").get(i++ % 4);
          Http.post(port, "/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,"
              + "\"options\":{\"num_predict\":20}}", "Authorization", "Bearer " + admin);
        }
      }, "ui-test-traffic");
      load.start();

      Files.createDirectories(SCREENSHOT.getParent());
      browser = new ProcessBuilder("node", "mesh-ui.mjs", "http://127.0.0.1:" + port, admin,
          SCREENSHOT.toAbsolutePath().toString()).directory(UI.toFile())
          .redirectError(dir.resolve("browser.log").toFile()).start();
      BlockingQueue<String> out = lines(browser);
      String sites = await(out, "SITES ", browser);
      traffic.set(false);
      load.join(60_000);
      JsonObject shown = new JsonObject(sites);
      assertTrue(shown.getBoolean("tokenKept"), "the token is kept in session storage");
      Map<String, List<String>> seen = shown.getJsonArray("sites").stream().map(JsonObject.class::cast)
          .collect(Collectors.toMap(s -> s.getString("site"),
              s -> s.getJsonArray("models").stream().map(String::valueOf).sorted().toList()));
      assertEquals(models, seen, "sites and models on the page");
      assertTrue(shown.getJsonArray("sites").stream().map(JsonObject.class::cast)
          .allMatch(s -> s.getString("state").equals("up")), sites);

      // cloud-vm's Ollama stops: its node stays in the mesh, its probe fails, the page says down.
      TestMesh.await(mesh.sims.get("cloud-vm").close());
      try (Writer w = browser.outputWriter(StandardCharsets.UTF_8)) {
        w.write("DOWN cloud-vm\n");
      }
      assertEquals("cloud-vm", await(out, "SHOWN-DOWN ", browser));
      assertTrue(browser.waitFor(30, TimeUnit.SECONDS), "the browser script did not end");
      assertEquals(0, browser.exitValue(), Files.readString(dir.resolve("browser.log")));
      byte[] png = Files.readAllBytes(SCREENSHOT);
      assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
    } finally {
      traffic.set(false);
      if (browser != null && browser.isAlive()) {
        browser.destroyForcibly();
      }
      TestMesh.await(vertx.close());
    }
  }

  /** Skips where the browser cannot run; fails under CI=true, where it must. */
  private static void needs(boolean present, String what) {
    if (!present) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true and the browser test cannot run: " + what);
      }
      Assumptions.abort("browser test skipped: " + what);
    }
  }

  private static boolean onPath(String command) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, command))) {
        return true;
      }
    }
    return false;
  }

  private static BlockingQueue<String> lines(Process p) {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          q.add(line);
        }
      } catch (IOException e) {
        q.add("READ-FAILED " + e);
      }
      q.add("EOF");
    }, "ui-test-browser-out");
    reader.setDaemon(true);
    reader.start();
    return q;
  }

  /** The rest of the script's next line starting with {@code prefix}; fails if it ends first. */
  private String await(BlockingQueue<String> out, String prefix, Process browser) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String line = out.poll(1, TimeUnit.SECONDS);
      if (line == null) {
        continue;
      }
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length());
      }
      if (line.equals("EOF")) {
        browser.waitFor(10, TimeUnit.SECONDS);
        fail("the browser script ended before '" + prefix.trim() + "': " + Files.readString(dir.resolve("browser.log")));
      }
    }
    fail("no '" + prefix.trim() + "' from the browser script in 120 s: " + Files.readString(dir.resolve("browser.log")));
    return null;
  }
}
