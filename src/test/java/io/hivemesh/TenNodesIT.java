package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.load.Ledger;
import io.hivemesh.support.load.LoadDriver;
import io.hivemesh.support.loopback.LocalMesh;
import io.hivemesh.support.loopback.LocalNode;
import io.hivemesh.support.netns.Await;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Ten nodes, each a JVM of its own, form one mesh in which every node serves every model from a
 * site that holds it; then, under load, an eleventh joins and nodes leave one by one with
 * SIGTERM, and the ledger loses nothing.
 */
class TenNodesIT {

  private static final Path LOGS = Path.of("target", "it-logs", "TenNodesIT");
  private static final List<String> MODELS = List.of("llama3.2", "mistral", "phi3", "qwen2.5:7b", "gemma2");
  private static final List<String> JVM = List.of("-Xmx200m");
  private static final List<String> NODE_ARGS = List.of("--parallel", "8", "--inventory-interval", "250ms",
      "--event-loops", "1");

  @Test
  void tenNodesServeEveryModelAndNodesComeAndGoUnderLoad() throws Exception {
    long testStart = System.nanoTime();
    try (LocalMesh mesh = new LocalMesh(LOGS)) {
      List<LocalNode> nodes = new ArrayList<>();
      nodes.add(addSite(mesh, 1));
      mesh.awaitMesh(nodes, Duration.ofSeconds(120));
      for (int i = 2; i <= 10; i++) {
        nodes.add(addSite(mesh, i));
      }
      mesh.awaitMesh(nodes, Duration.ofSeconds(240));
      long formed = System.nanoTime();
      System.out.println("TenNodesIT: 10 nodes formed one mesh in " + (formed - testStart) / 1_000_000 + " ms");

      // Every node, every model: answered, by a site that holds it.
      Map<String, Set<String>> holdings = mesh.models();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      for (LocalNode via : nodes) {
        for (String model : MODELS) {
          HttpResponse<String> r = generate(http, via, model);
          String what = model + " via " + via.name();
          assertEquals(200, r.statusCode(), what + ": " + r.body());
          assertEquals(true, new JsonObject(r.body()).getBoolean("done"), what + ": " + r.body());
          String site = r.headers().firstValue("X-Hive-Node").orElse("");
          assertTrue(holdings.getOrDefault(site, Set.of()).contains(model), what + " was served by '" + site
              + "', which does not hold it");
        }
      }

      List<LoadDriver.Entry> entries = new ArrayList<>(nodes.stream().map(TenNodesIT::entry).toList());
      LoadDriver driver = LoadDriver.start(LoadDriver.Options.defaults("ten", MODELS).withConcurrency(10), entries);
      awaitProgress(driver, "before the eleventh node joins");

      LocalNode eleventh = addSite(mesh, 11);
      nodes.add(eleventh);
      long joinAt = System.nanoTime();
      mesh.awaitMesh(nodes, Duration.ofSeconds(120));
      System.out.println("TenNodesIT: the eleventh node joined under load in " + (System.nanoTime() - joinAt) / 1_000_000
          + " ms");
      entries.add(entry(eleventh));
      driver.entries(entries);
      awaitProgress(driver, "with eleven nodes");

      // Leave one by one from the newest: the sites left still hold every model (site i holds two of five).
      int keep = Boolean.getBoolean("hive.soak") ? 4 : 7;
      while (nodes.size() > keep) {
        LocalNode leaving = nodes.remove(nodes.size() - 1);
        long stopAt = System.nanoTime();
        leaving.terminate();
        leaving.awaitExit(Duration.ofSeconds(60));
        entries.removeIf(e -> e.name().equals(leaving.name()));
        driver.entries(entries);
        mesh.awaitMesh(nodes, Duration.ofSeconds(60));
        System.out.println("TenNodesIT: " + leaving.name() + " drained and left under load in "
            + (System.nanoTime() - stopAt) / 1_000_000 + " ms");
        awaitProgress(driver, "after " + leaving.name() + " left");
      }
      Ledger ledger = driver.stop();
      ledger.writeTo(LOGS.resolve("ledger.txt"));
      System.out.println("TenNodesIT: ledger " + ledger.summary());

      ledger.assertComplete();
      assertEquals(0, ledger.errored(), "nodes joining and leaving cost no request: " + ledger.summary());
      ledger.assertNothingServedTwice(mesh.simStats(), Set.of());
      System.out.println("TenNodesIT: took " + (System.nanoTime() - testStart) / 1_000_000_000 + " s");
    }
  }

  /** Site {@code i} holds two of the five models, so that any four consecutive sites hold them all. */
  private static LocalNode addSite(LocalMesh mesh, int i) {
    SimOptions sim = SimOptions.defaults().withModels(MODELS.get((i - 1) % MODELS.size()), MODELS.get(i % MODELS.size()))
        .withParallel(8).withLoadMs(0).withTokensPerSecond(40).withMaxLoaded(2);
    return mesh.addSite("node-" + i, sim, JVM, NODE_ARGS);
  }

  private static LoadDriver.Entry entry(LocalNode n) {
    return new LoadDriver.Entry(n.name(), n.httpPort());
  }

  private static void awaitProgress(LoadDriver driver, String when) {
    long before = driver.ledger().answered();
    Await.until("ten more requests answered " + when, Duration.ofSeconds(60),
        () -> driver.ledger().answered() >= before + 10, () -> driver.ledger().summary());
  }

  private static HttpResponse<String> generate(HttpClient http, LocalNode via, String model)
      throws IOException, InterruptedException {
    String body = new JsonObject().put("model", model).put("prompt", "check " + model + " via " + via.name())
        .put("stream", false).put("options", new JsonObject().put("num_predict", 4)).encode();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.httpPort() + "/api/generate"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
