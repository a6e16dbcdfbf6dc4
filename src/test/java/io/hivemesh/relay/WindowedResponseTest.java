package io.hivemesh.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The receiving end of a framed answer, as both the bus and the edge link use it: what reaches the
 * client, what credit goes back to the sender, and how a broken sender ends the stream.
 */
class WindowedResponseTest {

  private static final int WINDOW = 8;

  /** A sender's frames arrive through the {@code on*} calls; what the stream sends back is recorded. */
  private static final class Stream extends WindowedResponse {
    final List<Integer> grants = new ArrayList<>();
    int cancels;
    int releases;

    Stream() {
      super(WINDOW);
    }

    @Override
    protected void sendGrant(int chunks) {
      grants.add(chunks);
    }

    @Override
    protected void sendCancel() {
      cancels++;
    }

    @Override
    protected void released() {
      releases++;
    }

    @Override
    protected String sender() {
      return "site 'a'";
    }

    @Override
    public String site() {
      return "a";
    }
  }

  /** A client that takes chunks and can push back by pausing the stream while it writes. */
  private static final class Client implements BodySink {
    final List<String> chunks = new ArrayList<>();
    String ended;
    WindowedResponse pauseOnWrite;

    @Override
    public void write(Buffer chunk) {
      chunks.add(chunk.toString());
      if (pauseOnWrite != null) {
        pauseOnWrite.pause();
      }
    }

    @Override
    public void end() {
      ended = "end";
    }

    @Override
    public void fail(String message) {
      ended = "fail: " + message;
    }
  }

  private static Buffer chunk(int i) {
    return Buffer.buffer("c" + i);
  }

  @Test
  void aWholeAnswerInItsHeadFrameReachesTheClientAfterTheHeadCompletes() {
    Stream s = new Stream();
    s.onHead(200, MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json"), chunk(0), true);
    assertTrue(s.head().succeeded());
    assertSame(s, s.head().result());
    assertEquals(200, s.status());
    assertEquals("application/json", s.headers().get("content-type"));
    assertEquals(1, s.buffered(), "held until the client starts reading");
    Client client = new Client();
    s.start(client);
    assertEquals(List.of("c0"), client.chunks);
    assertEquals("end", client.ended);
    assertEquals(1, s.releases);
    assertEquals(0, s.cancels);
  }

  @Test
  void creditGoesBackInHalfWindowsAsTheClientTakesChunks() {
    Stream s = new Stream();
    Client client = new Client();
    s.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    s.start(client);
    for (int i = 0; i < 3 * WINDOW / 2; i++) {
      s.onData(chunk(i));
    }
    assertEquals(List.of(WINDOW / 2, WINDOW / 2, WINDOW / 2), s.grants);
    s.onData(chunk(99));
    s.onEnd();
    assertEquals(3 * WINDOW / 2 + 1, client.chunks.size());
    assertEquals("end", client.ended);
    assertEquals(List.of(WINDOW / 2, WINDOW / 2, WINDOW / 2), s.grants, "no grant for a stream that ended");
  }

  @Test
  void aPausedClientGetsNothingAndGrantsNothingUntilItResumes() {
    Stream s = new Stream();
    Client client = new Client();
    client.pauseOnWrite = s;
    s.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    s.start(client);
    for (int i = 0; i < WINDOW; i++) {
      s.onData(chunk(i));
    }
    assertEquals(List.of("c0"), client.chunks, "the first write paused the stream");
    assertEquals(WINDOW - 1, s.buffered());
    assertEquals(List.of(), s.grants);
    client.pauseOnWrite = null;
    s.resume();
    assertEquals(WINDOW, client.chunks.size());
    assertEquals(0, s.buffered());
    assertEquals(List.of(WINDOW / 2, WINDOW / 2), s.grants, "credit for every chunk taken, once taken");
  }

  @Test
  void aSenderThatIgnoresTheWindowIsCutOffWithAnErrorLine() {
    Stream s = new Stream();
    Client client = new Client();
    client.pauseOnWrite = s;
    s.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    s.start(client);
    for (int i = 0; i <= 2 * WINDOW + 1; i++) {
      s.onData(chunk(i));
    }
    assertEquals("fail: site 'a' sent more than it was granted", client.ended);
    assertEquals(1, s.cancels);
    assertEquals(1, s.releases);
    assertEquals(0, s.buffered());
    s.onData(chunk(100));
    s.onEnd();
    assertEquals("fail: site 'a' sent more than it was granted", client.ended, "nothing after the end");
  }

  @Test
  void anErrorBeforeTheHeadFailsTheHeadSoTheRequestCanGoElsewhere() {
    Stream s = new Stream();
    s.onError(503, "site 'a' is busy", true);
    assertTrue(s.head().failed());
    RelayException e = assertInstanceOf(RelayException.class, s.head().cause());
    assertEquals(503, e.status());
    assertTrue(e.retryable());
    assertEquals(1, s.releases);
    assertEquals(0, s.cancels, "the sender ended it: nothing to cancel");
  }

  @Test
  void anErrorAfterTheHeadEndsTheClientsAnswerWithIt() {
    Stream s = new Stream();
    Client client = new Client();
    s.onHead(200, MultiMap.caseInsensitiveMultiMap(), chunk(0), false);
    s.onError(502, "connection to Ollama lost mid-stream", false);
    s.start(client);
    assertEquals(List.of("c0"), client.chunks);
    assertEquals("fail: connection to Ollama lost mid-stream", client.ended);
  }

  @Test
  void framesOutOfOrderBreakTheStreamBeforeTheHeadAsARetryableFailure() {
    Stream data = new Stream();
    data.onData(chunk(0));
    assertEquals("site 'a' sent data before its head", data.head().cause().getMessage());
    assertTrue(((RelayException) data.head().cause()).retryable());
    assertEquals(1, data.cancels);

    Stream end = new Stream();
    end.onEnd();
    assertEquals("site 'a' ended a stream before its head", end.head().cause().getMessage());

    Stream twice = new Stream();
    Client client = new Client();
    twice.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    twice.start(client);
    twice.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    assertEquals("fail: site 'a' sent a second head", client.ended);
  }

  @Test
  void aCancelledStreamTellsTheSenderOnceAndTakesNothingMore() {
    Stream s = new Stream();
    Client client = new Client();
    s.onHead(200, MultiMap.caseInsensitiveMultiMap(), null, false);
    s.start(client);
    s.cancel();
    s.cancel();
    s.onData(chunk(1));
    s.abort(new RelayException(504, "late", true));
    assertEquals(1, s.cancels);
    assertEquals(1, s.releases);
    assertTrue(client.chunks.isEmpty());
    assertFalse(client.ended != null, "a cancelled answer is the client's own doing: no end, no error line");
  }
}
