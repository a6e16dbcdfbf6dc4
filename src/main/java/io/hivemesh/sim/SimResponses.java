package io.hivemesh.sim;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;

/**
 * Writing responses the way Ollama's Go server does (status, {@code Date}, content type, and a
 * {@code Content-Length} without a body for HEAD), plus the JSON shapes of model listings.
 */
final class SimResponses {

  static final String JSON_UTF8 = "application/json; charset=utf-8";
  static final String JSON = "application/json";
  static final String NDJSON = "application/x-ndjson";
  static final String SSE = "text/event-stream";
  static final String TEXT_UTF8 = "text/plain; charset=utf-8";
  static final String TEXT = "text/plain";

  /** Ollama's message when the pending queue is full; the two spaces are Ollama's. */
  static final String QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded";

  private SimResponses() {
  }

  /** Sets the status and the headers every Go response has; nothing is sent yet. */
  static HttpServerResponse head(HttpServerRequest req, int status, String contentType) {
    HttpServerResponse resp = req.response();
    resp.setStatusCode(status).putHeader("Date", GoTime.httpDate());
    if (contentType != null) {
      resp.putHeader("Content-Type", contentType);
    }
    return resp;
  }

  /** A complete response; for HEAD only the length is sent, as Go does. */
  static void send(HttpServerRequest req, int status, String contentType, Buffer body) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      // Too late for a status: like Ollama, finish the stream with the body as its last line.
      resp.end(body.copy().appendString("\n"));
      return;
    }
    head(req, status, contentType);
    if (req.method() == HttpMethod.HEAD) {
      resp.putHeader("Content-Length", String.valueOf(body.length())).end();
    } else {
      resp.end(body);
    }
  }

  static void send(HttpServerRequest req, int status, String contentType, String body) {
    send(req, status, contentType, Buffer.buffer(body));
  }

  /** gin's c.JSON. */
  static void json(HttpServerRequest req, int status, JsonOut body) {
    send(req, status, JSON_UTF8, body.toBuffer());
  }

  /** A 200 with no body (copy, delete): Go sends no content type. */
  static void empty(HttpServerRequest req, int status) {
    send(req, status, null, Buffer.buffer());
  }

  /** {@code details} of /api/tags, /api/ps and /api/show. */
  static void details(JsonOut out, SimModel m, boolean withLengths) {
    out.key("details").obj()
        .field("parent_model", "")
        .field("format", "gguf")
        .field("family", m.family())
        .key("families").arr().str(m.family()).endArr()
        .field("parameter_size", m.parameterSize())
        .field("quantization_level", m.quantization());
    if (withLengths) {
      out.fieldNonZero("context_length", m.trainedContext())
          .fieldNonZero("embedding_length", m.embeddingLength());
    }
    out.end();
  }

  static void capabilities(JsonOut out, List<String> caps) {
    out.key("capabilities").arr();
    for (String c : caps) {
      out.str(c);
    }
    out.endArr();
  }

  /** GET /api/tags. */
  static JsonOut tags(List<SimModel> models) {
    JsonOut out = new JsonOut(new StringBuilder(256 + 420 * models.size()));
    out.obj().key("models").arr();
    for (SimModel m : models) {
      out.obj()
          .field("name", m.display())
          .field("model", m.display())
          .field("modified_at", GoTime.local(m.modifiedAt()))
          .field("size", m.size())
          .field("digest", m.digest());
      details(out, m, true);
      capabilities(out, m.capabilities());
      out.end();
    }
    return out.endArr().end();
  }

  /** GET /api/ps. */
  static JsonOut ps(List<SimScheduler.Runner> runners) {
    JsonOut out = new JsonOut();
    out.obj().key("models").arr();
    for (SimScheduler.Runner r : runners) {
      SimModel m = r.model();
      // A bigger context costs memory, as on a real server.
      long size = m.size() + (long) r.contextLength() * 112_000L;
      out.obj()
          .field("name", m.display())
          .field("model", m.display())
          .field("size", size)
          .field("digest", m.digest());
      details(out, m, false);
      out.field("expires_at", GoTime.local(r.expiresAt()))
          .field("size_vram", size)
          .field("context_length", r.contextLength())
          .end();
    }
    return out.endArr().end();
  }
}
