package io.hivemesh.backend;

import static io.hivemesh.support.TestMesh.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.model.ModelName;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Answers of the site's own Ollama, relayed: once one has ended, nothing of it stays behind. */
class LocalResponseTest {

  private Vertx vertx;
  private OllamaSim sim;
  private OllamaBackend backend;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    sim = await(OllamaSim.start(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(0)
        .withTokensPerSecond(0).withParallel(8).withPort(0)));
    NodeConfig config = NodeConfig.parse(new String[] {"--name", "site", "--ollama", sim.url(), "--insecure-no-auth",
        "--stream-idle-timeout", "10m"}, Map.of());
    backend = new OllamaBackend(vertx, config, new LocalLoad(config.maxInflight()));
  }

  @AfterEach
  void stop() {
    await(backend.close());
    await(sim.close());
    await(vertx.close());
  }

  /** Relays one answer to its end on an event loop; completes with a weak reference to the answer. */
  private Future<WeakReference<RelayResponse>> relayToTheEnd(boolean stream) {
    Promise<WeakReference<RelayResponse>> done = Promise.promise();
    Buffer body = Buffer.buffer("{\"model\":\"m\",\"prompt\":\"hi\",\"stream\":" + stream
        + ",\"options\":{\"num_predict\":5}}");
    vertx.runOnContext(v -> backend.relay(new RelayRequest(HttpMethod.POST, "/api/generate",
        MultiMap.caseInsensitiveMultiMap(), body), ModelName.key("m"), new Cancellation()).onSuccess(answer -> {
          WeakReference<RelayResponse> ref = new WeakReference<>(answer);
          answer.start(new BodySink() {
            @Override
            public void write(Buffer chunk) {
            }

            @Override
            public void end() {
              done.complete(ref);
            }

            @Override
            public void fail(String message) {
              done.fail(message);
            }
          });
        }).onFailure(done::fail));
    return done.future();
  }

  @Test
  void anEndedAnswerIsNotKeptAliveByItsSilenceLimit() {
    // The limit is ten minutes: a timer left running would hold every answer (and its request, its
    // client's context, its buffers) that long, which is how a busy node once ran out of heap.
    List<WeakReference<RelayResponse>> answers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      answers.add(await(relayToTheEnd(i % 2 == 0)));
    }
    assertEquals(0, backend.load().total(), "every place given back");
    TestMesh.awaitTrue("every ended answer can be collected", Duration.ofSeconds(10), () -> {
      System.gc();
      return answers.stream().allMatch(r -> r.get() == null);
    });
    assertTrue(sim.stats().completed() >= 50);
    System.out.println("LocalResponseTest: 50 ended answers collected");
  }
}
