package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.support.Http;
import io.hivemesh.support.LogCapture;
import io.hivemesh.support.TestMesh;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The steps an inference request passes outside the router: order, failures, and what runs at the end. */
@ExtendWith(VertxExtension.class)
class PipelineTest {

  /** A server on loopback whose every request runs {@code pipeline}. */
  private static int serve(Vertx vertx, Pipeline pipeline) throws Exception {
    return vertx.createHttpServer().requestHandler(req -> pipeline.run(new Exchange(req, null)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
  }

  @Test
  void stepsRunInOrderAlsoWhenOneGoesOnOnALaterTurn(Vertx vertx) throws Exception {
    int port = serve(vertx, new Pipeline(
        (x, next) -> {
          x.response.putHeader("X-Steps", "a");
          next.run();
        },
        (x, next) -> vertx.runOnContext(v -> {
          x.response.headers().add("X-Steps", "b");
          next.run();
        }),
        (x, next) -> x.response.end(String.join(",", x.response.headers().getAll("X-Steps")) + ",c")));

    HttpResponse<String> r = Http.post(port, "/api/generate", "{}");

    assertEquals(200, r.statusCode());
    assertEquals("a,b,c", r.body());
  }

  /** A bug in a step costs its own request a 500 in Ollama's shape, nothing more: the next request is served. */
  @Test
  void aStepThatThrowsIsAnOllamaShaped500AndTheNextRequestIsServed(Vertx vertx) throws Exception {
    int port = serve(vertx, new Pipeline(
        (x, next) -> {
          if (x.request.path().equals("/api/generate")) {
            throw new IllegalStateException("a bug in a step");
          }
          next.run();
        },
        (x, next) -> x.response.end("served")));

    try (LogCapture logs = LogCapture.attach()) {
      HttpResponse<String> broken = Http.post(port, "/api/generate", "{}");
      HttpResponse<String> next = Http.post(port, "/v1/chat/completions", "{}");

      assertEquals(500, broken.statusCode());
      assertEquals("internal error in the mesh node", new JsonObject(broken.body()).getString("error"));
      assertEquals(200, next.statusCode());
      assertEquals("served", next.body());
      assertTrue(logs.lines().stream().anyMatch(l -> l.contains("unexpected failure on POST /api/generate")),
          "the failure is logged for the operator");
    }
  }

  @Test
  void endActionsRunOnceLatestFirstAndOneAddedAfterTheEndRunsAtOnce(Vertx vertx) throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    int port = serve(vertx, new Pipeline((x, next) -> {
      x.atEnd(() -> ran.add("registered first"));
      x.atEnd(() -> ran.add("registered second"));
      x.response.end("done");
      x.atEnd(() -> ran.add("registered after the end"));
    }));

    assertEquals("done", Http.post(port, "/api/generate", "{}").body());

    TestMesh.awaitTrue("the end actions ran", Duration.ofSeconds(10), () -> ran.size() == 3);
    assertEquals(List.of("registered second", "registered first", "registered after the end"), ran);
  }

  /** Quota permits, body bytes and the node's request count are released this way when a client hangs up. */
  @Test
  void endActionsRunWhenTheClientHangsUpBeforeItsAnswer(Vertx vertx) throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    int port = serve(vertx, new Pipeline((x, next) -> {
      x.atEnd(() -> ran.add("released"));
      ran.add("waiting");
    }));

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}")
          .getBytes(StandardCharsets.US_ASCII));
      TestMesh.awaitTrue("the request arrived", Duration.ofSeconds(10), () -> ran.contains("waiting"));
    }

    TestMesh.awaitTrue("the end action ran on hang-up", Duration.ofSeconds(10), () -> ran.contains("released"));
    assertEquals(List.of("waiting", "released"), ran);
  }
}
