package io.hivemesh.edge;

import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.RelayException;
import io.hivemesh.relay.RelayResponse;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;

/**
 * The node's end of one request relayed to an attached edge: turns the edge's frames back into a
 * {@link RelayResponse}, granting credit only while whoever reads it keeps up, so a slow reader
 * holds at most a window of chunks here and pauses the edge's Ollama instead. Confined to the
 * event loop of its {@link EdgeLink}.
 */
final class EdgeStream implements RelayResponse {

  private final EdgeLink link;
  private final long sid;
  private final Runnable release;
  private final Promise<RelayResponse> head = Promise.promise();
  private final ArrayDeque<Buffer> pending = new ArrayDeque<>();
  private int status;
  private MultiMap headers;
  private BodySink sink;
  private boolean paused;
  private boolean ended;
  private String error;
  private boolean finished;
  private int consumed;

  EdgeStream(EdgeLink link, long sid, Runnable release) {
    this.link = link;
    this.sid = sid;
    this.release = release;
  }

  Future<RelayResponse> head() {
    return head.future();
  }

  void onHead(JsonObject json) {
    if (headers != null) {
      broken("edge '" + link.name() + "' sent a second head");
      return;
    }
    status = json.getInteger("status", 502);
    headers = EdgeProtocol.headersOf(json.getJsonObject("headers"));
    head.tryComplete(this);
  }

  void onData(Buffer chunk) {
    if (headers == null) {
      broken("edge '" + link.name() + "' sent data before its head");
    } else if (sink != null && !paused && pending.isEmpty()) {
      deliver(chunk);
    } else if (pending.size() >= 2 * EdgeProtocol.WINDOW) {
      broken("edge '" + link.name() + "' sent more than it was granted");
    } else {
      pending.add(chunk);
    }
  }

  void onEnd() {
    if (headers == null) {
      broken("edge '" + link.name() + "' ended a stream before its head");
      return;
    }
    ended = true;
    drain();
  }

  void onError(JsonObject json) {
    String message = json.getString("message", "error");
    if (headers == null) {
      finish();
      head.tryFail(new RelayException(json.getInteger("status", 502), message, json.getBoolean("retryable", true)));
    } else {
      error = message;
      ended = true;
      drain();
    }
  }

  private void deliver(Buffer chunk) {
    sink.write(chunk);
    if (++consumed >= EdgeProtocol.WINDOW / 2 && !paused) {
      grant();
    }
  }

  private void grant() {
    if (consumed > 0 && !finished) {
      link.send(EdgeProtocol.credit(sid, consumed));
      consumed = 0;
    }
  }

  private void drain() {
    if (sink == null) {
      return;
    }
    while (!paused && !pending.isEmpty() && !finished) {
      deliver(pending.poll());
    }
    if (ended && pending.isEmpty() && !finished) {
      finish();
      if (error != null) {
        sink.fail(error);
      } else {
        sink.end();
      }
    } else if (!paused) {
      grant();
    }
  }

  /** The link is gone or the edge broke the protocol: end with an error (or fail over, before the head). */
  void broken(String message) {
    if (finished) {
      return;
    }
    link.send(EdgeProtocol.frame(EdgeProtocol.CANCEL, sid, (Buffer) null));
    finish();
    if (headers == null) {
      head.tryFail(new RelayException(502, message, true));
    } else if (sink != null) {
      sink.fail(message);
    } else {
      error = message;
    }
  }

  private void finish() {
    finished = true;
    pending.clear();
    link.forget(sid);
    release.run();
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
    return link.name();
  }

  @Override
  public void start(BodySink sink) {
    this.sink = sink;
    if (finished && error != null) {
      sink.fail(error);
      return;
    }
    drain();
  }

  @Override
  public void pause() {
    paused = true;
  }

  @Override
  public void resume() {
    if (paused) {
      paused = false;
      drain();
    }
  }

  @Override
  public void cancel() {
    if (!finished) {
      link.send(EdgeProtocol.frame(EdgeProtocol.CANCEL, sid, (Buffer) null));
      finish();
    }
  }
}
