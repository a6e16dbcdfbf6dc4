package io.hivemesh.backend;

import io.hivemesh.backend.OllamaConnectionStats.CloseReason;
import io.hivemesh.mesh.SiteSpeed;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.LoopSweep;
import io.hivemesh.relay.RelayResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One request to this site's own Ollama and its answer, relayed as it comes. Two deadlines, each
 * checked by its event loop's sweep ({@link LoopSweep}) rather than a timer per request: until
 * the answer's head, the first-byte limit (it covers a cold model load); from then on, the
 * silence limit, which does not count while the client is slow to read.
 */
final class LocalResponse extends LoopSweep.Entry implements RelayResponse, OllamaConnection.Exchange {

  private static final String HEAD_WAITS = "hive.answer-heads";
  private static final String SILENCES = "hive.answer-silences";

  /** Hop-by-hop headers (RFC 9110 section 7.6.1) never travel past a proxy. */
  private static final List<String> HOP_BY_HOP = List.of("connection", "keep-alive", "transfer-encoding", "te",
      "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");

  private final Vertx vertx;
  private final Settings settings;
  private final OllamaConnection connection;
  private final OllamaBackend.Release release;
  private final String modelKey;
  private final long sentNanos;
  private final Promise<RelayResponse> head = Promise.promise();
  private int status;
  private MultiMap headers;
  private boolean done;
  private boolean paused;
  /** The connection closed between the head and {@link #start}: the answer fails once started. */
  private boolean lostBeforeStart;
  private boolean expired;
  /** Data (or a resume) since the last sweep: a flag, not a clock read per chunk. */
  private boolean heard;
  /** When a sweep last found the answer silent after hearing from it. */
  private long quietSince;
  private BodySink sink;
  /** Ollama's final statistics line, once the answer has ended: what {@link SiteSpeed} learns from. */
  private Buffer lastChunk;

  /** What every answer of one site shares. */
  record Settings(String site, long firstByteNanos, long idleMs, SiteSpeed speed) {
  }

  private LocalResponse(Vertx vertx, Settings settings, OllamaConnection connection, OllamaBackend.Release release,
                        String modelKey) {
    this.vertx = vertx;
    this.settings = settings;
    this.connection = connection;
    this.release = release;
    this.modelKey = modelKey;
    this.sentNanos = System.nanoTime();
  }

  /**
   * Sends {@code request} on {@code connection}; completes with the answer once its head has
   * arrived (paused until {@link #start}), or fails with {@link TimeoutException} past the
   * first-byte limit, {@link OllamaClosedException} when the connection closed first, or the
   * cancellation.
   */
  static Future<RelayResponse> send(Vertx vertx, Settings settings, OllamaConnection connection,
                                    FullHttpRequest request, OllamaBackend.Release release, String modelKey,
                                    Cancellation cancel) {
    LocalResponse answer = new LocalResponse(vertx, settings, connection, release, modelKey);
    cancel.onCancel(answer::cancel);
    LoopSweep.current(vertx, HEAD_WAITS, settings.firstByteNanos() / 10_000_000).enter(answer);
    connection.send(request, answer);
    return answer.head.future();
  }

  /** Compared in place: lower-casing every header name of every answer would be a string each. */
  private static boolean isHopByHop(CharSequence name) {
    for (String h : HOP_BY_HOP) {
      if (AsciiString.contentEqualsIgnoreCase(h, name)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void head(HttpResponse answerHead) {
    leave();
    status = answerHead.status().code();
    headers = MultiMap.caseInsensitiveMultiMap();
    // The decoder's names as it made them (ASCII strings that keep their hash), not copied into Strings.
    Iterator<Map.Entry<CharSequence, CharSequence>> each = answerHead.headers().iteratorCharSequence();
    while (each.hasNext()) {
      Map.Entry<CharSequence, CharSequence> h = each.next();
      if (!isHopByHop(h.getKey())) {
        headers.add(h.getKey(), h.getValue());
      }
    }
    connection.pause();
    head.tryComplete(this);
  }

  @Override
  public void data(Buffer chunk) {
    heard = true;
    lastChunk = chunk;
    sink.write(chunk);
  }

  @Override
  public void end() {
    if (lastChunk != null && status == 200) {
      settings.speed().answered(modelKey, lastChunk);
    }
    if (finish()) {
      sink.end();
    }
  }

  @Override
  public void closed() {
    if (headers == null) {
      leave();
      head.tryFail(expired ? new TimeoutException("no answer head") : new OllamaClosedException(connection.reused()));
    } else if (sink == null) {
      lostBeforeStart = true;
    } else if (finish()) {
      sink.fail("site '" + settings.site() + "': connection to Ollama lost mid-stream");
    }
  }

  @Override
  public int status() {
    return status;
  }

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public String site() {
    return settings.site();
  }

  @Override
  public void start(BodySink sink) {
    this.sink = sink;
    if (lostBeforeStart) {
      if (finish()) {
        sink.fail("site '" + settings.site() + "': connection to Ollama lost mid-stream");
      }
      return;
    }
    heard = true;
    LoopSweep.current(vertx, SILENCES, settings.idleMs() / 10).enter(this);
    connection.resume();
  }

  /**
   * Before the head: the first-byte limit, past which the request is reset. After it: silence
   * while the client is keeping up means the model stopped; while it is paused it does not count.
   */
  @Override
  protected void check(long now) {
    if (headers == null) {
      if (now - sentNanos >= settings.firstByteNanos()) {
        expired = true;
        leave();
        connection.reset(CloseReason.TIMEOUT);
      }
      return;
    }
    if (done) {
      return;
    }
    if (heard || paused) {
      // Silence is counted from the first sweep that finds none: at most one sweep (a tenth of the limit) late.
      heard = false;
      quietSince = now;
      return;
    }
    if (now - quietSince < settings.idleMs() * 1_000_000) {
      return;
    }
    if (finish()) {
      connection.reset(CloseReason.TIMEOUT);
      sink.fail("site '" + settings.site() + "': the model stopped producing output");
    }
  }

  /** Ends the answer once: gives its place back and leaves the sweep; false if it had ended already. */
  private boolean finish() {
    if (done) {
      return false;
    }
    done = true;
    release.run();
    leave();
    return true;
  }

  @Override
  public void pause() {
    if (!done) {
      paused = true;
      connection.pause();
    }
  }

  @Override
  public void resume() {
    if (!done) {
      paused = false;
      heard = true;
      connection.resume();
    }
  }

  /** Closing the connection is how Ollama learns the client is gone: it stops generating, or loading. */
  @Override
  public void cancel() {
    if (headers == null) {
      leave();
      connection.reset(CloseReason.CANCELLED);
      head.tryFail(Cancellation.canceled());
    } else if (finish()) {
      connection.reset(CloseReason.CANCELLED);
    }
  }

  /** Ollama closed the connection before the answer's head. */
  static final class OllamaClosedException extends Exception {
    private final boolean reusedConnection;

    OllamaClosedException(boolean reusedConnection) {
      super("Ollama closed the connection", null, false, false);
      this.reusedConnection = reusedConnection;
    }

    /** On a connection that had carried an earlier answer: the keep-alive race, worth one more try. */
    boolean reusedConnection() {
      return reusedConnection;
    }
  }
}
