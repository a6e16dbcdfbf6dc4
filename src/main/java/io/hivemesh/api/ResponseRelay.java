package io.hivemesh.api;

import io.hivemesh.observe.RequestTrace;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * Writes a site's answer to the client as it comes: status and headers unchanged, each chunk
 * flushed as it arrives, the site paused while the client is slow, the site's work cancelled when
 * the client goes away. A stream that breaks after its first byte ends the way Ollama ends it: one
 * {@code {"error": ...}} line and no {@code done} line.
 */
final class ResponseRelay implements BodySink {

  private final HttpServerResponse out;
  private final RelayResponse answer;
  private final boolean sse;
  /** The request's trace: first byte and token counts for the metrics and the access log. */
  private final RequestTrace trace;
  private boolean finished;
  private boolean endsWithNewline = true;

  private ResponseRelay(HttpServerResponse out, RelayResponse answer, RequestTrace trace) {
    this.out = out;
    this.trace = trace;
    this.answer = answer;
    String type = answer.headers().get("content-type");
    this.sse = type != null && type.startsWith("text/event-stream");
  }

  static void relay(HttpServerResponse out, RelayResponse answer, RequestTrace trace) {
    ResponseRelay relay = new ResponseRelay(out, answer, trace);
    trace.site(answer.site());
    out.setStatusCode(answer.status());
    out.headers().addAll(answer.headers());
    out.putHeader("X-Hive-Node", answer.site());
    if (!out.headers().contains("content-length")) {
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
    out.write(chunk);
    if (out.writeQueueFull()) {
      answer.pause();
      out.drainHandler(v -> answer.resume());
    }
  }

  @Override
  public void end() {
    if (!finished) {
      finished = true;
      out.end();
    }
  }

  @Override
  public void fail(String message) {
    if (finished) {
      return;
    }
    finished = true;
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
    out.end(line.toString());
  }
}
