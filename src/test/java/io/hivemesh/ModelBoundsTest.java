package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.model.ModelName;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A hot model fills its own share of a site, not the site: requests for other models still get through. */
class ModelBoundsTest {

  private static final String BUSY = "server busy, please try again.  maximum pending requests exceeded";
  private static final int PER_MODEL = 3;

  /** Long enough (40 tokens at 4 per second) that the flood is still held while the test looks. */
  private static String slowGenerate(String model) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"x\",\"options\":{\"num_predict\":40}}";
  }

  private static String quickGenerate(String model) {
    return "{\"model\":\"" + model + "\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}";
  }

  @Test
  void aFloodOnOneModelGets503WhileAnotherModelOnTheSameSiteIsServed() throws Exception {
    try (TestMesh mesh = new TestMesh()) {
      // 'gpu' alone holds llama3.2 and mistral; 'edge' holds neither, so everything it gets crosses the bus.
      SimOptions slow = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(4).withParallel(PER_MODEL);
      // A generous ack limit: on a busy machine a late ack would read as a failed site, not a full one.
      mesh.add("gpu", slow.withModels("llama3.2", "mistral"), "--max-queue-per-model", String.valueOf(PER_MODEL),
          "--max-inflight", "50", "--connect-timeout", "5s");
      mesh.add("edge", slow.withModels("phi3"), "--connect-timeout", "5s");
      mesh.awaitConverged();
      int edge = mesh.port("edge");
      int gpu = mesh.port("gpu");
      assertEquals(200, Http.post(edge, "/api/generate", quickGenerate("llama3.2")).statusCode());
      // Until edge hears that this request ended, its view counts it, and would call the site full one request early.
      awaitTrue("edge sees gpu idle", Duration.ofSeconds(10),
          () -> siteLoad(edge, "gpu").getJsonObject("inflight_by_model", new JsonObject()).isEmpty());

      // The flood: 12 streamed requests for llama3.2 at once; the connections stay open (held) until closed.
      List<Held> flood = new ArrayList<>();
      try {
        for (int i = 0; i < 12; i++) {
          flood.add(Held.send(edge, "/api/generate", slowGenerate("llama3.2")));
        }
        int accepted = 0;
        int refused = 0;
        for (Held h : flood) {
          String head = h.readHead();
          if (head.startsWith("HTTP/1.1 200")) {
            accepted++;
          } else {
            assertTrue(head.startsWith("HTTP/1.1 503"), head);
            assertTrue(head.toLowerCase().contains("retry-after: 1"), head);
            assertEquals(new JsonObject().put("error", BUSY), new JsonObject(h.readBody(head)), head);
            refused++;
          }
        }
        assertEquals(PER_MODEL, accepted, "accepted for llama3.2");
        assertEquals(12 - PER_MODEL, refused, "refused for llama3.2");

        // The same site still serves another model, through either node.
        HttpResponse<String> other = Http.post(edge, "/api/generate", quickGenerate("mistral"));
        assertEquals(200, other.statusCode(), other.body());
        assertEquals("gpu", other.headers().firstValue("x-hive-node").orElse(""));
        assertEquals(200, Http.post(gpu, "/api/generate", quickGenerate("mistral")).statusCode());

        // The site says so in the load it publishes: origins stop trying it for llama3.2 only.
        String llama = ModelName.key("llama3.2");
        awaitTrue("edge sees gpu full for llama3.2", Duration.ofSeconds(10), () -> {
          var seen = mesh.nodes.get("edge").view().candidates(llama);
          return seen.sites().isEmpty() && seen.saturated() == 1;
        });
        assertEquals(List.of("gpu"), mesh.nodes.get("edge").view().candidates(ModelName.key("mistral")).sites()
            .stream().map(c -> c.site()).toList());
        HttpResponse<String> direct = Http.post(gpu, "/api/generate", quickGenerate("llama3.2"));
        assertEquals(503, direct.statusCode());
        assertEquals("1", direct.headers().firstValue("retry-after").orElse(""));
        assertEquals(new JsonObject().put("error", BUSY), new JsonObject(direct.body()));
        HttpResponse<String> openAi = Http.post(edge, "/v1/chat/completions",
            "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(503, openAi.statusCode());
        assertEquals(BUSY, new JsonObject(openAi.body()).getJsonObject("error").getString("message"));

        // Unknown models never reach a site's counters.
        for (int i = 0; i < 50; i++) {
          assertEquals(404, Http.post(gpu, "/api/generate", quickGenerate("nope-" + i)).statusCode());
          assertEquals(404, Http.post(edge, "/api/generate", quickGenerate("nope-" + i), "X-Hive-Node", "gpu")
              .statusCode());
        }
        JsonObject load = siteLoad(gpu, "gpu");
        assertEquals(new JsonObject().put("llama3.2:latest", PER_MODEL), load.getJsonObject("inflight_by_model"));
        assertEquals(PER_MODEL, load.getInteger("max_per_model"));
      } finally {
        flood.forEach(Held::close);
      }
      // Once the flood's clients hang up, the site holds nothing and no entry stays behind.
      awaitTrue("gpu holds nothing", Duration.ofSeconds(10),
          () -> siteLoad(gpu, "gpu").getJsonObject("inflight_by_model").isEmpty()
              && siteLoad(gpu, "gpu").getInteger("inflight") == 0);
      // ...and says so: origins send it llama3.2 again.
      awaitTrue("edge sees gpu take llama3.2 again", Duration.ofSeconds(10),
          () -> !mesh.nodes.get("edge").view().candidates(ModelName.key("llama3.2")).sites().isEmpty());
      assertEquals(200, Http.post(edge, "/api/generate", quickGenerate("llama3.2")).statusCode());
    }
  }

  private static JsonObject siteLoad(int port, String site) {
    for (Object n : new JsonObject(Http.get(port, "/hive/nodes").body()).getJsonArray("nodes")) {
      JsonObject node = (JsonObject) n;
      if (node.getString("name").equals(site)) {
        return node;
      }
    }
    throw new AssertionError("no site " + site);
  }

  /** A request on a connection of its own, held open until closed: a client still waiting for its answer. */
  private record Held(Socket socket, InputStream in) {

    static Held send(int port, String path, String json) throws IOException {
      Socket s = new Socket("127.0.0.1", port);
      s.setSoTimeout(30_000);
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(body);
      s.getOutputStream().flush();
      return new Held(s, s.getInputStream());
    }

    /** Status line and headers. */
    String readHead() throws IOException {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed before the head: " + head);
        }
        head.append((char) b);
      }
      return head.toString();
    }

    /** The body of an answer with a Content-Length. */
    String readBody(String head) throws IOException {
      int length = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
          .map(l -> Integer.parseInt(l.substring(l.indexOf(':') + 1).trim())).findFirst()
          .orElseThrow(() -> new AssertionError("no content-length: " + head));
      return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
