package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand requests, each for a model no site holds, through every route that names a model,
 * on both nodes: each is answered 404 with Ollama's exact message, and the nodes keep nothing per
 * model asked for. The names are a kilobyte each, so anything that remembered them (a map keyed by
 * model in the view, the routing, the breakers, the quotas, the load counters) would hold 10 MB.
 */
class UnknownModelsTest {

  private static final int REQUESTS = 10_000;
  private static final int NAME_LENGTH = 1_000;
  /** Well under the 10 MB the names add up to; well over what a node's own buffers and caches move. */
  private static final long HEAP_GROWTH_BOUND = 5L << 20;

  static TestMesh mesh;

  @BeforeAll
  static void start() {
    mesh = new TestMesh();
    SimOptions sim = SimOptions.defaults().withLoadMs(0);
    mesh.add("a", sim.withModels("llama3.2"));
    mesh.add("b", sim.withModels("phi3"));
    mesh.awaitConverged();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  @Test
  void everyUnknownModelIsA404AndNothingGrowsPerModel() throws Exception {
    askForUnknownModels("warm-up", 1_000); // JIT, pools and caches settle before the baseline
    long before = heapAfterGc();

    askForUnknownModels("no-such-model", REQUESTS);

    long growth = heapAfterGc() - before;
    System.out.printf("UnknownModelsTest: %d distinct unknown models, heap growth %d KB%n", REQUESTS, growth / 1024);
    assertTrue(growth < HEAP_GROWTH_BOUND, "heap grew by " + growth / 1024 + " KB over " + REQUESTS
        + " unknown models of " + NAME_LENGTH + " characters");
    // And the mesh still answers a model it has, on both nodes: once it is whole again, as
    // System.gc() stops every node of this in-process mesh at once, and a site whose probes of its
    // sim timed out meanwhile is out of rotation until one answers.
    mesh.awaitConverged();
    for (String node : List.of("a", "b")) {
      HttpResponse<String> ok = Http.post(mesh.port(node), "/api/generate",
          "{\"model\":\"phi3\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}");
      assertEquals(200, ok.statusCode(), ok.body());
    }
  }

  /** Sends {@code count} requests, each for a model of its own, four at a time; checks every answer. */
  private static void askForUnknownModels(String prefix, int count) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        done.add(clients.submit(() -> {
          for (int i = first; i < count; i += 4) {
            String name = prefix + "-" + i + "-" + "x".repeat(NAME_LENGTH - prefix.length() - 8);
            askFor(i % 2 == 0 ? "a" : "b", name, i % 8);
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /** One request for {@code model} on the route numbered {@code route}, and the exact answer Ollama gives. */
  private static void askFor(String node, String model, int route) {
    int port = mesh.port(node);
    HttpResponse<String> r;
    String expected;
    boolean openAi = false;
    switch (route) {
      case 0 -> {
        r = Http.post(port, "/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"hi\"}");
        expected = "model '" + model + "' not found";
      }
      case 1 -> {
        r = Http.post(port, "/api/chat", "{\"model\":\"" + model + "\",\"messages\":[]}");
        expected = "model '" + model + "' not found";
      }
      case 2 -> {
        r = Http.post(port, "/api/embed", "{\"model\":\"" + model + "\",\"input\":\"hi\"}");
        expected = "model '" + model + "' not found";
      }
      case 3 -> {
        r = Http.post(port, "/api/show", "{\"model\":\"" + model + "\"}");
        expected = "model '" + model + "' not found";
      }
      case 4 -> {
        r = Http.post(port, "/api/embeddings", "{\"model\":\"" + model + "\",\"prompt\":\"hi\"}");
        expected = "model \"" + model + "\" not found, try pulling it first";
      }
      case 5 -> {
        r = Http.post(port, "/v1/chat/completions", "{\"model\":\"" + model + "\",\"messages\":[]}");
        expected = "model \"" + model + "\" not found, try pulling it first";
        openAi = true;
      }
      case 6 -> {
        r = Http.get(port, "/v1/models/" + model);
        expected = "model \"" + model + "\" not found";
        openAi = true;
      }
      default -> {
        // Pinned to a site that exists but does not hold the model.
        r = Http.post(port, "/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"hi\"}",
            HttpApi.NODE_HEADER, node.equals("a") ? "b" : "a");
        expected = "model '" + model + "' not found";
      }
    }
    assertEquals(404, r.statusCode(), r.body());
    JsonObject body = new JsonObject(r.body());
    assertEquals(expected, openAi ? body.getJsonObject("error").getString("message") : body.getString("error"));
  }

  private static long heapAfterGc() throws InterruptedException {
    long least = Long.MAX_VALUE;
    // The smallest of a few readings: a reading taken while a background task allocates is higher.
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
      least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return least;
  }
}
