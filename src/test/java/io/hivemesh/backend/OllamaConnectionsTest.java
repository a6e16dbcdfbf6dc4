package io.hivemesh.backend;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.model.ModelName;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The site's connections to its Ollama, seen from a stand-in Ollama that counts them: kept and
 * reused across answers, one per request in flight, and never reused when an answer leaves one
 * unfit (closed by Ollama, cancelled, told to close).
 */
class OllamaConnectionsTest {

  private Vertx vertx;
  private HttpServer ollama;
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  /** Requests each connection has carried. */
  private final Map<HttpConnection, Integer> requestsOn = new ConcurrentHashMap<>();
  /** When set, Ollama closes a connection when its second request arrives, without answering; when 0, every request's. */
  private volatile int dropRequestNumber = -1;
  /** Answers of /slow that have started and not ended. */
  private final List<HttpServerResponse> hanging = new ArrayList<>();
  private OllamaBackend backend;
  private Context loop;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    ollama = await(vertx.createHttpServer().connectionHandler(c -> {
      opened.incrementAndGet();
      c.closeHandler(v -> closed.incrementAndGet());
    }).requestHandler(req -> req.body().onSuccess(body -> {
      int nth = requestsOn.merge(req.connection(), 1, Integer::sum);
      if (dropRequestNumber == 0 || dropRequestNumber == nth) {
        req.connection().close();
        return;
      }
      HttpServerResponse resp = req.response().putHeader("content-type", "application/json");
      switch (req.path()) {
        case "/api/generate" -> {
          if (req.getHeader("x-answer-close") != null) {
            resp.putHeader("connection", "close");
          }
          resp.end("{\"model\":\"m\",\"response\":\"hi\",\"done\":true}");
        }
        case "/api/hangup" -> resp.end("{\"done\":true}").onComplete(v -> req.connection().close());
        case "/slow" -> {
          resp.setChunked(true).write("{\"response\":\"a\",\"done\":false}\n");
          hanging.add(resp);
        }
        default -> resp.setStatusCode(404).end();
      }
    })).listen(0, "127.0.0.1"));
    NodeConfig config = NodeConfig.parse(new String[] {"--name", "site", "--ollama",
        "http://127.0.0.1:" + ollama.actualPort(), "--insecure-no-auth"}, Map.of());
    backend = new OllamaBackend(vertx, config, new LocalLoad(config.maxInflight()));
    loop = vertx.getOrCreateContext();
  }

  @AfterEach
  void stop() {
    await(backend.close());
    await(vertx.close());
  }

  /** One answer through the backend, relayed to its end on the test's event loop: its status. */
  private Future<Integer> relay(String path, MultiMap headers, Cancellation cancel) {
    Promise<Integer> done = Promise.promise();
    loop.runOnContext(v -> backend.relay(new RelayRequest(HttpMethod.POST, path, headers,
        Buffer.buffer("{\"model\":\"m\",\"prompt\":\"hi\"}")), ModelName.key("m"), cancel).onSuccess(answer ->
        answer.start(new BodySink() {
          @Override
          public void write(Buffer chunk) {
          }

          @Override
          public void end() {
            done.complete(answer.status());
          }

          @Override
          public void fail(String message) {
            done.tryFail(message);
          }
        })).onFailure(done::tryFail));
    return done.future();
  }

  private int generate() {
    return await(relay("/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation()));
  }

  @Test
  void answersOneAfterAnotherShareOneConnection() {
    for (int i = 0; i < 20; i++) {
      assertEquals(200, generate());
    }
    assertEquals(1, opened.get(), "connections Ollama saw");
    assertEquals(0, closed.get());
  }

  @Test
  void requestsInFlightTogetherEachHaveAConnectionThenReuseThem() {
    for (int round = 0; round < 3; round++) {
      List<Future<Integer>> together = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        together.add(relay("/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation()));
      }
      for (Future<Integer> f : together) {
        assertEquals(200, await(f));
      }
    }
    assertEquals(4, opened.get(), "one connection per request in flight, reused in the next rounds");
  }

  @Test
  void anAnswerThatSaysCloseIsTheLastOnItsConnection() {
    assertEquals(200, await(relay("/api/generate", MultiMap.caseInsensitiveMultiMap().add("x-answer-close", "1"),
        new Cancellation())));
    assertEquals(200, generate());
    assertEquals(200, generate());
    assertEquals(2, opened.get(), "a new connection after the one Ollama closed, then that one reused");
  }

  @Test
  void aConnectionOllamaClosedWhileIdleIsNotUsedAgain() {
    assertEquals(200, await(relay("/api/hangup", MultiMap.caseInsensitiveMultiMap(), new Cancellation())));
    awaitTrue("Ollama closed the idle connection", Duration.ofSeconds(5), () -> closed.get() == 1);
    assertEquals(200, generate(), "the next request connects again instead of failing on the closed one");
    assertEquals(2, opened.get());
  }

  @Test
  void aRequestOnAConnectionOllamaClosesUnderItGoesOnceMoreOnANewOne() {
    assertEquals(200, generate());
    dropRequestNumber = 2;
    assertEquals(200, generate(), "the reused connection closed before answering; a new one answered");
    assertEquals(2, opened.get());
  }

  @Test
  void aNewConnectionClosedBeforeAnsweringFailsTheRequestWithoutAnotherTry() {
    dropRequestNumber = 0;
    Future<Integer> answer = relay("/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation());
    RelayException failure = assertThrows(RelayException.class, () -> {
      try {
        answer.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw e.getCause();
      }
    });
    assertEquals("site 'site': Ollama closed the connection", failure.getMessage());
    assertTrue(failure.retryable(), "another site may take it");
    assertEquals(1, opened.get(), "tried once");
    assertEquals(0, backend.load().total(), "its place given back");
  }

  @Test
  void aCancelledAnswerClosesItsConnectionAndTheNextRequestGetsANewOne() {
    Cancellation cancel = new Cancellation();
    relay("/slow", MultiMap.caseInsensitiveMultiMap(), cancel);
    awaitTrue("the answer has started", Duration.ofSeconds(5), () -> hanging.size() == 1);
    loop.runOnContext(v -> cancel.cancel());
    awaitTrue("Ollama saw the connection close: that is how it learns to stop", Duration.ofSeconds(5),
        () -> closed.get() == 1);
    assertEquals(200, generate());
    assertEquals(2, opened.get(), "the cancelled answer's connection was not reused");
    assertEquals(0, backend.load().total(), "every place given back");
  }

  @Test
  void anIdleConnectionIsClosedAfterTheIdleLimit() {
    HttpClientAgent client = vertx.createHttpClient();
    OllamaConnections connections = new OllamaConnections(vertx, client,
        new HttpConnectOptions().setHost("127.0.0.1").setPort(ollama.actualPort()), 200);
    Promise<Void> used = Promise.promise();
    loop.runOnContext(v -> connections.acquire().compose(lease -> lease.connection.request(
        new RequestOptions().setMethod(HttpMethod.POST).setURI("/api/generate"))
        .compose(req -> req.send("{}")).compose(resp -> resp.end().map(x -> {
          lease.recycle();
          return (Void) null;
        }))).onComplete(used));
    await(used.future());
    assertEquals(0, closed.get(), "kept at first");
    awaitTrue("closed once idle past the limit", Duration.ofSeconds(5), () -> closed.get() == 1);
    await(client.close());
  }
}
