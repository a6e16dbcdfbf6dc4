package io.hivemesh.backend;

import static io.hivemesh.support.TestMesh.await;
import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.model.ModelName;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
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
  /** Lines of /long's answer, each a chunk of its own, about 1 KB. */
  private static final int LONG_LINES = 20_000;
  /** Lines of /long's answer Ollama has written so far; -1 once it has written them all. */
  private final AtomicInteger linesWritten = new AtomicInteger();
  /** The head of the last request Ollama saw. */
  private volatile MultiMap lastHeaders;
  private OllamaBackend backend;
  private Context loop;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    ollama = await(vertx.createHttpServer().connectionHandler(c -> {
      opened.incrementAndGet();
      c.closeHandler(v -> closed.incrementAndGet());
    }).requestHandler(req -> req.body().onSuccess(body -> {
      lastHeaders = MultiMap.caseInsensitiveMultiMap().addAll(req.headers()).add(":body-length",
          String.valueOf(body.length()));
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
        case "/long" -> writeLines(resp.setChunked(true), 0);
        default -> resp.setStatusCode(404).end();
      }
    })).listen(0, "127.0.0.1"));
    NodeConfig config = NodeConfig.parse(new String[] {"--name", "site", "--ollama",
        "http://127.0.0.1:" + ollama.actualPort(), "--insecure-no-auth"}, Map.of());
    backend = new OllamaBackend(vertx, config, new LocalLoad(config.maxInflight()));
    loop = vertx.getOrCreateContext();
  }

  /** Writes /long's lines from {@code from} as fast as the connection takes them. */
  private void writeLines(HttpServerResponse resp, int from) {
    for (int i = from; i < LONG_LINES; i++) {
      if (resp.writeQueueFull()) {
        int next = i;
        resp.drainHandler(v -> writeLines(resp, next));
        return;
      }
      resp.write(line(i));
      linesWritten.set(i + 1);
    }
    linesWritten.set(-1);
    resp.end();
  }

  private static String line(int i) {
    return String.format("{\"line\":%06d,\"pad\":\"%s\"}%n", i, "x".repeat(1000));
  }

  @AfterEach
  void stop() {
    await(backend.close());
    await(vertx.close());
  }

  /** One answer through the backend, relayed to its end on the test's event loop: its status. */
  private Future<Integer> relay(String path, MultiMap headers, Cancellation cancel) {
    return RelayToEnd.relay(loop, backend, path, headers, cancel);
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
    OllamaConnectionStats stats = backend.connectionStats();
    assertEquals(1, stats.opened(), "the node's count agrees");
    assertEquals(1, stats.open());
    assertEquals(0, stats.connectFailures());
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
    awaitTrue("counted as closed at Ollama's word", Duration.ofSeconds(5),
        () -> backend.connectionStats().closed(CloseReason.OLLAMA) == 1);
    assertEquals(1, backend.connectionStats().open());
  }

  @Test
  void aConnectionOllamaClosedWhileIdleIsNotUsedAgain() {
    assertEquals(200, await(relay("/api/hangup", MultiMap.caseInsensitiveMultiMap(), new Cancellation())));
    awaitTrue("Ollama closed the idle connection", Duration.ofSeconds(5), () -> closed.get() == 1);
    assertEquals(200, generate(), "the next request connects again instead of failing on the closed one");
    assertEquals(2, opened.get());
    assertEquals(1, backend.connectionStats().closed(CloseReason.OLLAMA));
    assertEquals(2, backend.connectionStats().opened());
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
    assertEquals(1, backend.connectionStats().closed(CloseReason.CANCELLED));
    assertEquals(0, backend.connectionStats().closed(CloseReason.OLLAMA));
  }

  @Test
  void ollamaGetsTheSitesHostTheForwardedHeadersAndTheBody() {
    assertEquals(200, await(relay("/api/generate", MultiMap.caseInsensitiveMultiMap()
        .add("content-type", "application/json").add("user-agent", "ollama-python/0.4")
        .add("host", "from-a-peer:1"), new Cancellation())));
    MultiMap seen = lastHeaders;
    assertEquals(List.of("127.0.0.1:" + ollama.actualPort()), seen.getAll("host"),
        "one Host, the site's own: Ollama refuses a Host that is not");
    assertEquals("application/json", seen.get("content-type"));
    assertEquals("ollama-python/0.4", seen.get("user-agent"));
    assertEquals(String.valueOf("{\"model\":\"m\",\"prompt\":\"hi\"}".length()), seen.get("content-length"));
    assertEquals(seen.get("content-length"), seen.get(":body-length"));
  }

  @Test
  void aPausedAnswerStopsOllamaAndLosesNothingWhenResumed() {
    Promise<Buffer> received = Promise.promise();
    int[] whenResumed = {0};
    loop.runOnContext(v -> backend.relay(new RelayRequest(HttpMethod.POST, "/long", MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer("{}")), ModelName.key("m"), new Cancellation()).onSuccess(answer -> {
          Buffer all = Buffer.buffer();
          answer.start(new BodySink() {
            @Override
            public void write(Buffer chunk) {
              if (all.length() == 0) {
                // A client that stops reading: the answer must stop at Ollama, not pile up in the node.
                // Resumed once Ollama has made no progress for 300 ms (or has written everything).
                answer.pause();
                int[] last = {-2, 0};
                vertx.setPeriodic(50, id -> {
                  int written = linesWritten.get();
                  last[1] = written == last[0] ? last[1] + 1 : 0;
                  last[0] = written;
                  if (written < 0 || last[1] >= 6) {
                    vertx.cancelTimer(id);
                    whenResumed[0] = written;
                    answer.resume();
                  }
                });
              }
              all.appendBuffer(chunk);
            }

            @Override
            public void end() {
              received.complete(all);
            }

            @Override
            public void fail(String message) {
              received.tryFail(message);
            }
          });
        }).onFailure(received::tryFail));
    Buffer all = await(received.future());
    assertTrue(whenResumed[0] > 0 && whenResumed[0] < LONG_LINES / 2,
        "Ollama was held back while the answer was paused, at line " + whenResumed[0] + " of " + LONG_LINES);
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < LONG_LINES; i++) {
      expected.append(line(i));
    }
    assertEquals(expected.length(), all.length(), "every byte, once");
    assertEquals(expected.toString(), all.toString(), "in order");
    assertEquals(0, backend.load().total());
  }

  @Test
  void anIdleConnectionIsClosedAfterTheIdleLimit() {
    OllamaConnections connections = new OllamaConnections(vertx, "127.0.0.1", ollama.actualPort(), false, null, 5000,
        200);
    Promise<Void> used = Promise.promise();
    loop.runOnContext(v -> connections.acquire().onComplete(acquired -> {
      OllamaConnection connection = acquired.result();
      connection.send(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.POST,
          "/api/generate", Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8)), new OllamaConnection.Exchange() {
            @Override
            public void head(HttpResponse head) {
            }

            @Override
            public void data(Buffer chunk) {
            }

            @Override
            public void end() {
              used.complete();
            }

            @Override
            public void closed() {
              used.tryFail("closed");
            }
          });
    }));
    await(used.future());
    assertEquals(0, closed.get(), "kept at first");
    awaitTrue("closed once idle past the limit", Duration.ofSeconds(5), () -> closed.get() == 1);
    awaitTrue("counted as idle", Duration.ofSeconds(5), () -> connections.stats().closed(CloseReason.IDLE) == 1);
    assertEquals(0, connections.stats().open());
    await(connections.close());
  }

  @Test
  void aConnectionOllamaResetsCountsAsClosedByOllama() {
    HttpServer resetting = await(vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setSoLinger(0))
        .requestHandler(req -> req.connection().close()).listen(0, "127.0.0.1"));
    NodeConfig config = NodeConfig.parse(new String[] {"--name", "site", "--ollama",
        "http://127.0.0.1:" + resetting.actualPort(), "--insecure-no-auth"}, Map.of());
    OllamaBackend other = new OllamaBackend(vertx, config, new LocalLoad(config.maxInflight()));
    RelayException failure = assertThrows(RelayException.class, () -> {
      try {
        RelayToEnd.relay(loop, other, "/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation())
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw e.getCause();
      }
    });
    assertEquals(502, failure.status(), failure.getMessage());
    awaitTrue("closed", Duration.ofSeconds(5), () -> other.connectionStats().open() == 0);
    assertEquals(1, other.connectionStats().closed(CloseReason.OLLAMA), "a reset is Ollama's doing, not an error");
    await(other.close());
    await(resetting.close());
  }

  @Test
  void anOllamaNobodyListensForCountsAFailedConnectAndTheShutdownClosesTheRest() {
    assertEquals(200, generate());
    int port = ollama.actualPort();
    await(ollama.close());
    // The kept connection closes with the server; the next request finds nobody listening.
    awaitTrue("Ollama's side closed", Duration.ofSeconds(5), () -> backend.connectionStats().open() == 0);
    assertEquals(1, backend.connectionStats().closed(CloseReason.OLLAMA));
    RelayException refused = assertThrows(RelayException.class, () -> {
      try {
        relay("/api/generate", MultiMap.caseInsensitiveMultiMap(), new Cancellation()).toCompletionStage()
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw e.getCause();
      }
    });
    assertEquals(502, refused.status(), refused.getMessage());
    assertEquals(1, backend.connectionStats().connectFailures());

    ollama = await(vertx.createHttpServer().requestHandler(req -> req.response().end("{}")).listen(port, "127.0.0.1"));
    assertEquals(200, generate());
    assertEquals(1, backend.connectionStats().open());
    await(backend.close());
    awaitTrue("closed by the shutdown", Duration.ofSeconds(5),
        () -> backend.connectionStats().closed(CloseReason.SHUTDOWN) == 1);
    assertEquals(0, backend.connectionStats().open());
  }
}
