package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.hivemesh.observe.RequestObserver;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a site's answer leaves the node: what arrives together leaves as one chunk, what arrives
 * alone leaves at once, and nothing held back is lost when the answer ends or breaks. Each case
 * plays a site's answer into {@link ResponseRelay} behind a real HTTP server and reads it with a
 * real client, chunk by chunk as the client's decoder hands them over.
 */
class ResponseRelayTest {

  private Vertx vertx;
  private HttpServer server;
  private HttpClient client;
  /** What the next request's site does with the sink, on the server's event loop. */
  private volatile Consumer<BodySink> site;
  private volatile MultiMap siteHeaders;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    RequestObserver observer = new RequestObserver(null, "here");
    server = vertx.createHttpServer()
        .requestHandler(req -> ResponseRelay.relay(req.response(), new PlayedAnswer(siteHeaders, site),
            observer.begin(req)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client = vertx.createHttpClient();
    siteHeaders = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/x-ndjson");
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Buffer line(int i) {
    return Buffer.buffer("{\"response\":\"token " + i + "\",\"done\":false}\n");
  }

  private static String lines(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> line(i).toString()).collect(Collectors.joining());
  }

  /** The answer as the client's decoder hands it over: one entry per chunk received. */
  private record Received(HttpClientResponse response, List<String> chunks) {
    String body() {
      return String.join("", chunks);
    }
  }

  /**
   * Requests from a context of its own, so the response's listener runs as the head arrives and
   * sets the chunk handler before any chunk is handed over.
   */
  private Future<Received> get(Consumer<String> onChunk) {
    Promise<Received> received = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> client
        .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/api/generate")
        .onFailure(received::fail)
        .onSuccess(req -> {
          req.response().onFailure(received::fail).onSuccess(resp -> {
            List<String> chunks = new ArrayList<>();
            resp.handler(chunk -> {
              chunks.add(chunk.toString());
              onChunk.accept(chunk.toString());
            });
            resp.exceptionHandler(received::tryFail);
            resp.endHandler(end -> received.tryComplete(new Received(resp, chunks)));
          });
          req.end();
        }));
    return received.future();
  }

  private Received get() throws Exception {
    return get(chunk -> { }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void linesThatArriveTogetherLeaveAsOneChunk() throws Exception {
    site = sink -> {
      for (int i = 0; i < 12; i++) {
        sink.write(line(i));
      }
      sink.end();
    };
    Received r = get();
    assertEquals(200, r.response().statusCode());
    assertEquals("chunked", r.response().getHeader("transfer-encoding"));
    assertEquals(List.of(lines(0, 12)), r.chunks());
  }

  @Test
  void aLineThatArrivesAloneLeavesBeforeTheNextOneIsProduced() throws Exception {
    // The site produces line 1 only once the client holds line 0, and so on: a relay that held a
    // line back until more came would never finish.
    Promise<Void> gotFirst = Promise.promise();
    Promise<Void> gotSecond = Promise.promise();
    site = sink -> {
      sink.write(line(0));
      gotFirst.future().onSuccess(v -> sink.write(line(1)));
      gotSecond.future().onSuccess(v -> sink.end());
    };
    Received r = get(chunk -> {
      if (chunk.equals(line(0).toString())) {
        gotFirst.tryComplete();
      } else {
        gotSecond.tryComplete();
      }
    }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of(line(0).toString(), line(1).toString()), r.chunks());
  }

  @Test
  void aSizedBodyLeavesWholeWithItsLength() throws Exception {
    String body = lines(0, 3);
    siteHeaders = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
        .add("content-length", Integer.toString(body.length()));
    site = sink -> {
      sink.write(line(0));
      sink.write(Buffer.buffer(lines(1, 3)));
      sink.end();
    };
    Received r = get();
    assertEquals(Integer.toString(body.length()), r.response().getHeader("content-length"));
    assertNull(r.response().getHeader("transfer-encoding"));
    assertEquals(body, r.body());
  }

  @Test
  void aSizedBodyThatArrivesInPartsLeavesAsItArrives() throws Exception {
    String body = lines(0, 2);
    siteHeaders = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
        .add("content-length", Integer.toString(body.length()));
    Promise<Void> gotFirst = Promise.promise();
    site = sink -> {
      sink.write(line(0));
      gotFirst.future().onSuccess(v -> {
        sink.write(line(1));
        sink.end();
      });
    };
    Received r = get(chunk -> gotFirst.tryComplete())
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(body, r.body());
    assertEquals(line(0).toString(), r.chunks().get(0));
  }

  @Test
  void linesHeldWhenTheAnswerBreaksGoOutBeforeTheErrorLine() throws Exception {
    site = sink -> {
      sink.write(line(0));
      sink.write(Buffer.buffer("{\"response\":\"half"));
      sink.fail("site 'far': connection to Ollama lost mid-stream");
    };
    Received r = get();
    assertEquals(line(0) + "{\"response\":\"half\n"
        + "{\"error\":\"site 'far': connection to Ollama lost mid-stream\"}\n", r.body());
    assertFalse(r.body().contains("\"done\":true"));
  }

  /** A site's answer played from a script: the script gets the sink when the body is wanted. */
  private static final class PlayedAnswer implements RelayResponse {
    private final MultiMap headers;
    private final Consumer<BodySink> script;

    PlayedAnswer(MultiMap headers, Consumer<BodySink> script) {
      this.headers = headers;
      this.script = script;
    }

    @Override
    public int status() {
      return 200;
    }

    @Override
    public MultiMap headers() {
      return headers;
    }

    @Override
    public String site() {
      return "far";
    }

    @Override
    public void start(BodySink sink) {
      script.accept(sink);
    }

    @Override
    public void pause() {
    }

    @Override
    public void resume() {
    }

    @Override
    public void cancel() {
    }
  }
}
