package io.hivemesh.api;

import io.hivemesh.observe.RequestTrace;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * Writes a site's answer to the client as it comes: status and headers unchanged, the site paused
 * while the client is slow, the site's work cancelled when the client goes away. A stream that
 * breaks after its first byte ends the way Ollama ends it: one {@code {"error": ...}} line and no
 * {@code done} line.
 *
 * <p>Chunks that arrive together go out together: a chunk is held until the event loop has handed
 * over everything that came with it, then the batch is written and flushed once. A token that
 * arrives alone still goes out at once (the batch is written right after the read that brought it),
 * and an answer whose last bytes and end arrive together leaves with its end in one write, where
 * writing each chunk as it came cost a write and flush per chunk and one more for the end.
 *
 * <p>Runs on the request's event loop, where the answer's events come too: the local Ollama's
 * client calls back on the caller's context, and a peer's frames come through this loop's inbox.
 */
final class ResponseRelay implements BodySink {

  private final HttpServerResponse out;
  private final RelayResponse answer;
  private final boolean sse;
  /** The request's trace: first byte and token counts for the metrics and the access log. */
  private final RequestTrace trace;
  private final Context context;
  /** The body's announced length, or -1 for a stream: a sized body is written whole, at its end. */
  private final long sized;
  private boolean finished;
  private boolean endsWithNewline = true;
  /** Chunks received and not yet written: the current batch. */
  private Buffer held;
  private boolean heldIsCopy;
  private long bytesIn;
  private boolean writeScheduled;

  private ResponseRelay(HttpServerResponse out, RelayResponse answer, RequestTrace trace) {
    this.out = out;
    this.context = Vertx.currentContext();
    this.trace = trace;
    this.answer = answer;
    String type = answer.headers().get(HttpHeaders.CONTENT_TYPE);
    this.sse = type != null && type.startsWith("text/event-stream");
    this.sized = contentLength(answer.headers().get(HttpHeaders.CONTENT_LENGTH));
  }

  private static long contentLength(String header) {
    try {
      return header == null ? -1 : Long.parseLong(header);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static void relay(HttpServerResponse out, RelayResponse answer, RequestTrace trace) {
    ResponseRelay relay = new ResponseRelay(out, answer, trace);
    trace.site(answer.site());
    out.setStatusCode(answer.status());
    out.headers().addAll(answer.headers());
    out.putHeader(HttpApi.NODE_HEADER_NAME, answer.site());
    if (!out.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      out.setChunked(true);
    }
    out.closeHandler(v -> relay.clientGone());
    answer.start(relay);
  }

  private void clientGone() {
    if (!finished) {
      finished = true;
      answer.cancel();
    }
  }

  @Override
  public void write(Buffer chunk) {
    if (finished || chunk.length() == 0) {
      return;
    }
    endsWithNewline = chunk.getByte(chunk.length() - 1) == '\n';
    trace.chunk(chunk);
    bytesIn += chunk.length();
    hold(chunk);
    // A sized body that has all its bytes ends in the same read: its end writes it.
    if (!writeScheduled && (sized < 0 || bytesIn < sized)) {
      writeScheduled = true;
      context.runOnContext(v -> writeHeld());
    }
  }

  /** The first chunk of a batch is held as it is; a second one starts a copy (others may keep the chunks). */
  private void hold(Buffer chunk) {
    if (held == null) {
      held = chunk;
      heldIsCopy = false;
    } else {
      if (!heldIsCopy) {
        held = Buffer.buffer(4 * (held.length() + chunk.length())).appendBuffer(held);
        heldIsCopy = true;
      }
      held.appendBuffer(chunk);
    }
  }

  private void writeHeld() {
    writeScheduled = false;
    Buffer batch = held;
    held = null;
    if (finished || batch == null) {
      return;
    }
    out.write(batch);
    if (out.writeQueueFull()) {
      answer.pause();
      out.drainHandler(v -> answer.resume());
    }
  }

  @Override
  public void end() {
    if (!finished) {
      finished = true;
      Buffer batch = held;
      held = null;
      if (batch == null) {
        out.end();
      } else {
        out.end(batch);
      }
    }
  }

  @Override
  public void fail(String message) {
    if (finished) {
      return;
    }
    finished = true;
    Buffer batch = held;
    held = null;
    if (out.headers().contains("content-length")) {
      // A sized body cannot carry an error line: closing is the only honest signal.
      out.reset();
      return;
    }
    StringBuilder line = new StringBuilder(endsWithNewline ? "" : "\n");
    if (sse) {
      line.append("data: ").append(OllamaErrors.openAi(500, message).encode()).append("\n\n");
    } else {
      line.append(OllamaErrors.native_(message).encode()).append('\n');
    }
    if (batch != null) {
      out.write(batch);
    }
    out.end(line.toString());
  }
}
