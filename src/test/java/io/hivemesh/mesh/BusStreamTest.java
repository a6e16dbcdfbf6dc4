package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.backend.OllamaBackend;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayRequest;
import io.hivemesh.relay.RelayResponse;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stream protocol between two inboxes on a local event bus: the serving inbox relays to a real
 * simulated Ollama, the origin inbox turns frames back into a response.
 */
@ExtendWith(VertxExtension.class)
class BusStreamTest {

  private OllamaSim sim;
  private Inbox origin;
  private Inbox server;
  private OllamaBackend backend;
  private Context context;

  private static NodeConfig config(String name, String ollama, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("--name", name, "--ollama", ollama, "--insecure-no-auth"));
    args.addAll(List.of(extra));
    return NodeConfig.parse(args.toArray(String[]::new), Map.of());
  }

  @BeforeEach
  void setUp(Vertx vertx, VertxTestContext test) {
    start(vertx, test, SimOptions.defaults().withModels(List.of("m")).withLoadMs(0).withTokensPerSecond(0), "512");
  }

  private void start(Vertx vertx, VertxTestContext test, SimOptions options, String maxInflight) {
    context = vertx.getOrCreateContext();
    context.runOnContext(v -> OllamaSim.start(vertx, options.withPort(0)).compose(s -> {
      sim = s;
      NodeConfig serverConfig = config("server", s.url(), "--max-inflight", maxInflight);
      backend = new OllamaBackend(vertx, serverConfig, new LocalLoad(serverConfig.maxInflight()));
      server = new Inbox(vertx, serverConfig, 0, backend, () -> false);
      origin = new Inbox(vertx, config("origin", "http://127.0.0.1:1"), 0, null, () -> false);
      return Future.all(server.start(), origin.start());
    }).onComplete(test.succeedingThenComplete()));
  }

  @AfterEach
  void tearDown() throws Exception {
    stopAll();
  }

  private void stopAll() throws Exception {
    Promise<Void> stopped = Promise.promise();
    context.runOnContext(v -> Future.all(server.stop(), origin.stop(), sim.close(), backend.close()).<Void>mapEmpty()
        .onComplete(stopped));
    stopped.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Starts over with another sim and site limit; the inbox addresses must not be registered twice. */
  private void restart(Vertx vertx, SimOptions options, String maxInflight) throws Exception {
    stopAll();
    VertxTestContext started = new VertxTestContext();
    start(vertx, started, options, maxInflight);
    assertTrue(started.awaitCompletion(10, TimeUnit.SECONDS));
  }

  private static RelayRequest generate(int tokens) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json");
    return new RelayRequest(HttpMethod.POST, "/api/generate", h,
        Buffer.buffer("{\"model\":\"m\",\"prompt\":\"tell me\",\"options\":{\"num_predict\":" + tokens + "}}"));
  }

  /** Collects a body; completes with it, fails with the mid-stream error. */
  private static final class Collector implements BodySink {
    final Buffer body = Buffer.buffer();
    final Promise<Buffer> done = Promise.promise();
    int chunks;

    @Override
    public void write(Buffer chunk) {
      chunks++;
      body.appendBuffer(chunk);
    }

    @Override
    public void end() {
      done.tryComplete(body);
    }

    @Override
    public void fail(String message) {
      done.tryFail(message);
    }
  }

  private Future<RelayResponse> open(RelayRequest req) {
    Promise<RelayResponse> p = Promise.promise();
    context.runOnContext(v -> origin.open(site("server"), req, io.hivemesh.model.ModelName.key("m"), new Cancellation()).onComplete(p));
    return p.future();
  }

  @Test
  void relaysTheExactBytesTheSiteProduced(Vertx vertx, VertxTestContext test) {
    Future<Buffer> direct = backend.relay(generate(150), io.hivemesh.model.ModelName.key("m"), new Cancellation()).compose(r -> {
      Collector c = new Collector();
      r.start(c);
      return c.done.future();
    });
    Future<Buffer> viaBus = open(generate(150)).compose(r -> {
      test.verify(() -> {
        assertEquals(200, r.status());
        assertEquals("application/x-ndjson", r.headers().get("content-type"));
        assertEquals("server", r.site());
      });
      Collector c = new Collector();
      r.start(c);
      return c.done.future();
    });
    Future.all(direct, viaBus).onComplete(test.succeeding(v -> test.verify(() -> {
      String a = direct.result().toString().replaceAll("\"created_at\":\"[^\"]*\"", "").replaceAll("_duration\":\\d+", "");
      String b = viaBus.result().toString().replaceAll("\"created_at\":\"[^\"]*\"", "").replaceAll("_duration\":\\d+", "");
      assertEquals(a, b);
      assertTrue(b.lines().count() > 150);
      assertEquals(0, backend.load().total());
      test.completeNow();
    })));
  }

  /** Counts, by kind, the frames the site sends to the origin's inbox: every message it sends the origin. */
  private Map<String, Integer> countFramesToOrigin(Vertx vertx) {
    return countFramesTo(vertx, origin.address());
  }

  private static Map<String, Integer> countFramesTo(Vertx vertx, String address) {
    Map<String, Integer> kinds = new java.util.concurrent.ConcurrentHashMap<>();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      io.vertx.core.eventbus.Message<?> m = ctx.message();
      if (m.address().equals(address)) {
        String kind = BusFrame.decode((Buffer) m.body()).toString();
        kinds.merge(kind, 1, Integer::sum);
      }
      ctx.next();
    });
    return kinds;
  }

  private Future<Buffer> answer(RelayRequest req) {
    return open(req).compose(r -> {
      Collector c = new Collector();
      r.start(c);
      return c.done.future();
    });
  }

  private static RelayRequest generateWhole() {
    MultiMap h = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json");
    return new RelayRequest(HttpMethod.POST, "/api/generate", h,
        Buffer.buffer("{\"model\":\"m\",\"prompt\":\"tell me\",\"stream\":false,\"options\":{\"num_predict\":3}}"));
  }

  /**
   * The ack, the head, the answer and its end: one message, the site's only frame. The site holds
   * its ack 20 ms at most, so a stall of the machine can make even a short answer miss it: the
   * first answer warms the path (the site's connection to its Ollama, the code), and a later one
   * of three must cross as one message.
   */
  @Test
  void aWholeAnswerCrossesTheBusAsOneMessage(Vertx vertx, VertxTestContext test) {
    Map<String, Integer> kinds = countFramesToOrigin(vertx);
    answer(generateWhole())
        .compose(warm -> crossesAsOneMessage(kinds, 3))
        .onComplete(test.succeeding(seen -> test.verify(() -> {
          assertEquals(Map.of("head+last", 1), seen);
          test.completeNow();
        })));
  }

  /** What the site sent for the first of up to {@code tries} whole answers to come as one message, or the last. */
  private Future<Map<String, Integer>> crossesAsOneMessage(Map<String, Integer> kinds, int tries) {
    kinds.clear();
    return answer(generateWhole()).compose(body -> {
      assertTrue(body.toString().contains("\"done\":true"), body.toString());
      Map<String, Integer> seen = Map.copyOf(kinds);
      return seen.equals(Map.of("head+last", 1)) || tries == 1 ? Future.succeededFuture(seen)
          : crossesAsOneMessage(kinds, tries - 1);
    });
  }

  @Test
  void aStreamedAnswerEndsOnItsLastDataFrame(Vertx vertx, VertxTestContext test) {
    Map<String, Integer> kinds = countFramesToOrigin(vertx);
    Map<String, Integer> toSite = countFramesTo(vertx, server.address());
    answer(generate(20)).onComplete(test.succeeding(body -> test.verify(() -> {
      // 22 chunks, within the first window: the origin never needs to grant more.
      assertEquals(Map.of("open", 1), toSite);
      long lines = body.toString().lines().count();
      assertTrue(body.toString().trim().endsWith("}") && body.toString().contains("\"done\":true"), body.toString());
      assertEquals(1, kinds.getOrDefault("head", 0) + kinds.getOrDefault("head+last", 0));
      assertEquals(1, kinds.getOrDefault("data+last", 0) + kinds.getOrDefault("head+last", 0), kinds.toString());
      assertEquals(null, kinds.get("end"), kinds.toString());
      int frames = kinds.values().stream().mapToInt(Integer::intValue).sum() - kinds.getOrDefault("ack", 0);
      assertTrue(frames <= lines, kinds + " for " + lines + " lines");
      test.completeNow();
    })));
  }

  /**
   * Messages this node cannot read (frames of another version, garbage) are dropped: nothing is
   * served for them, no answer goes out, and the streams after them are served as before.
   */
  @Test
  void whatThisNodeCannotReadIsDroppedAndServingGoesOn(Vertx vertx, VertxTestContext test) {
    Map<String, Integer> kinds = countFramesToOrigin(vertx);
    Buffer otherRelease = new BusFrame(BusFrame.Kind.OPEN, 1, origin.address()).encode().setByte(0, (byte) 1);
    vertx.eventBus().send(server.address(), otherRelease);
    vertx.eventBus().send(server.address(), Buffer.buffer("not a frame"));
    answer(generateWhole()).onComplete(test.succeeding(body -> test.verify(() -> {
      assertTrue(body.toString().contains("\"done\":true"), body.toString());
      assertEquals(1, sim.stats().completed());
      assertEquals(null, kinds.get("error"), kinds.toString());
      assertEquals(0, backend.load().total());
      test.completeNow();
    })));
  }

  /**
   * The house rule: no bus consumer per request. A stream's messages are frames between the two
   * inboxes only: none is a request (the bus registers a reply handler and a timer for each) or a
   * reply to one.
   */
  @Test
  void aStreamTakesNoBusReplies(Vertx vertx, VertxTestContext test) throws Exception {
    restart(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(200).withTokensPerSecond(0), "1");
    java.util.concurrent.atomic.AtomicInteger replies = new java.util.concurrent.atomic.AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (isReply(ctx.message()) || ctx.message().replyAddress() != null) {
        replies.incrementAndGet();
      }
      ctx.next();
    });
    // A cold load past the ack hold (ack, then head), a refused open (the site holds one place), a stream.
    Future<Buffer> slow = answer(generateWhole());
    Future<Throwable> refused = open(generate(3)).map(r -> (Throwable) null).recover(Future::succeededFuture);
    Future.all(slow, refused).compose(v -> answer(generate(20))).onComplete(test.succeeding(body -> test.verify(() -> {
      assertTrue(refused.result() instanceof RelayException re && re.status() == 503, String.valueOf(refused.result()));
      assertTrue(body.toString().contains("\"done\":true"), body.toString());
      assertEquals(0, replies.get());
      test.completeNow();
    })));
  }

  /**
   * An answer that is not whole within the site's ack hold (here a cold load of twice the origin's
   * ack timeout) gets its ack at the end of the hold: the origin neither abandons the stream nor
   * tries elsewhere, and the answer comes as frames.
   */
  @Test
  void aSlowAnswerIsAckedAfterTheHoldAndNotAbandoned(Vertx vertx, VertxTestContext test) throws Exception {
    restart(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(1000).withTokensPerSecond(0), "512");
    Map<String, Integer> kinds = countFramesToOrigin(vertx);
    Map<String, Integer> toSite = countFramesTo(vertx, server.address());
    answer(generateWhole()).onComplete(test.succeeding(body -> test.verify(() -> {
      assertTrue(body.toString().contains("\"done\":true"), body.toString());
      assertEquals(Map.of("open", 1), toSite, "no abandon");
      assertEquals(Map.of("ack", 1, "head+last", 1), kinds);
      assertEquals(1, sim.stats().completed());
      test.completeNow();
    })));
  }

  @Test
  void aSiteSendsNoMoreThanItWasGrantedWhileTheClientIsNotReading(Vertx vertx, VertxTestContext test) {
    // 2000 chunks answered at once: without credit they would all pile up at the origin.
    open(generate(2000)).onComplete(test.succeeding(r -> {
      RemoteStream stream = (RemoteStream) r;
      vertx.setTimer(500, t -> {
        test.verify(() -> assertTrue(stream.buffered() <= BusProtocol.WINDOW + 1,
            "buffered " + stream.buffered() + " chunks, window " + BusProtocol.WINDOW));
        Collector c = new Collector();
        stream.start(c);
        c.done.future().onComplete(test.succeeding(body -> test.verify(() -> {
          assertTrue(body.toString().trim().endsWith("}"));
          assertTrue(body.toString().contains("\"done\":true"));
          test.completeNow();
        })));
      });
    }));
  }

  @Test
  void cancellingClosesTheSitesOllamaRequest(Vertx vertx, VertxTestContext test) throws Exception {
    restart(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(0).withTokensPerSecond(20), "512");
    open(generate(500)).onComplete(test.succeeding(r -> {
      r.start(new BodySink() {
        boolean cancelled;

        @Override
        public void write(Buffer chunk) {
          if (!cancelled) {
            cancelled = true;
            r.cancel();
          }
        }

        @Override
        public void end() {
          test.failNow("ended after cancel");
        }

        @Override
        public void fail(String message) {
          test.failNow("failed after cancel: " + message);
        }
      });
      long timer = vertx.setPeriodic(20, id -> {
        if (sim.stats().canceled() == 1 && sim.stats().active() == 0 && backend.load().total() == 0
            && server.openStreams() == 0) {
          vertx.cancelTimer(id);
          test.completeNow();
        }
      });
      vertx.setTimer(10_000, id -> vertx.cancelTimer(timer));
    }));
  }

  @Test
  void aFullSiteRefusesTheOpenSoTheOriginCanTryElsewhere(Vertx vertx, VertxTestContext test) throws Exception {
    restart(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(0).withTokensPerSecond(0), "1");
    assertTrue(backend.tryAcquire(io.hivemesh.model.ModelName.key("m")));
    open(generate(3)).onComplete(test.failing(err -> test.verify(() -> {
      RelayException re = (RelayException) err;
      assertEquals(503, re.status());
      assertTrue(re.retryable());
      test.completeNow();
    })));
  }

  @Test
  void anUnknownSiteFailsFastAndRetryably(Vertx vertx, VertxTestContext test) {
    Promise<RelayResponse> p = Promise.promise();
    context.runOnContext(v -> origin.open(site("nowhere"), generate(3), io.hivemesh.model.ModelName.key("m"), new Cancellation()).onComplete(p));
    p.future().onComplete(test.failing(err -> test.verify(() -> {
      RelayException re = (RelayException) err;
      assertEquals(502, re.status());
      assertTrue(re.retryable());
      test.completeNow();
    })));
  }

  /**
   * Holds back, by {@code delayMs}, every bus message that {@code which} selects: a slow link or a
   * busy peer, as the origin sees it.
   */
  private static void delay(Vertx vertx, long delayMs, java.util.function.Predicate<io.vertx.core.eventbus.Message<?>> which) {
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (which.test(ctx.message())) {
        vertx.setTimer(delayMs, t -> ctx.next());
      } else {
        ctx.next();
      }
    });
  }

  private static boolean isReply(io.vertx.core.eventbus.Message<?> m) {
    return m.address().startsWith("__vertx.reply");
  }

  @Test
  void aSiteWhoseAckIsLateButWhichServesKeepsTheRequest(Vertx vertx, VertxTestContext test) {
    // Everything the site sends takes a second, twice the origin's ack timeout: the old way, the
    // origin gave up at the timeout and another site served the request a second time.
    delay(vertx, 1000, m -> m.address().equals(origin.address()));
    long start = System.nanoTime();
    open(generate(5)).compose(r -> {
      test.verify(() -> assertEquals(200, r.status()));
      Collector c = new Collector();
      r.start(c);
      return c.done.future();
    }).onComplete(test.succeeding(body -> test.verify(() -> {
      assertTrue(body.toString().contains("\"done\":true"), body.toString());
      assertEquals(1, sim.stats().completed());
      System.out.println("BusStreamTest: answer kept after a late ack, in " + (System.nanoTime() - start) / 1_000_000 + " ms");
      test.completeNow();
    })));
  }

  @Test
  void aSiteThatHasNotStartedStopsWhenTheOriginGivesUpOnItsAck(Vertx vertx, VertxTestContext test) throws Exception {
    // A cold load of 3 s: the site is still loading when the origin asks it to abandon.
    restart(vertx, SimOptions.defaults().withModels(List.of("m")).withLoadMs(3000).withTokensPerSecond(0), "512");
    delay(vertx, 1000, m -> m.address().equals(origin.address()) && BusFrame.decode((Buffer) m.body()).kind == BusFrame.Kind.ACK);
    long start = System.nanoTime();
    open(generate(5)).onComplete(test.failing(err -> test.verify(() -> {
      long ms = (System.nanoTime() - start) / 1_000_000;
      RelayException re = (RelayException) err;
      assertEquals(504, re.status());
      assertTrue(re.retryable(), "another site may take it");
      assertTrue(ms < 2500, "given up once the site said it stopped, after " + ms + " ms");
      long timer = vertx.setPeriodic(20, id -> {
        if (sim.stats().canceled() == 1 && sim.stats().active() == 0 && server.openStreams() == 0) {
          vertx.cancelTimer(id);
          test.verify(() -> assertEquals(0, sim.stats().completed()));
          test.completeNow();
        }
      });
      vertx.setTimer(10_000, id -> vertx.cancelTimer(timer));
    })));
  }

  @Test
  void aSiteSilentToTheAbandonTooIsGivenUpAfterABoundedWait(Vertx vertx, VertxTestContext test) {
    delay(vertx, 10_000, m -> m.address().equals(origin.address()));
    long start = System.nanoTime();
    open(generate(5)).onComplete(test.failing(err -> test.verify(() -> {
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(504, ((RelayException) err).status());
      // One ack timeout (500 ms), then four more waiting for the answer to "abandon".
      assertTrue(ms >= 2400 && ms < 8000, "gave up after " + ms + " ms");
      test.completeNow();
    })));
  }

  /** A full node's site with one inbox, as the origin's view would hold it. */
  private static SiteState site(String name) {
    return new SiteState(name, "node-" + name, 1, true, false, 1, 8, 8, 0, java.util.Map.of(), java.util.Set.of(), 0);
  }
}
