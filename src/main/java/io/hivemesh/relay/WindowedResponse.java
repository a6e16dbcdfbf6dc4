package io.hivemesh.relay;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;

/**
 * The receiving end of an answer that another process relays in frames under a credit window (a
 * peer over the bus, an edge over its link): turns the frames back into a {@link RelayResponse} and
 * grants credit only while the client keeps up, so a slow client holds at most a window of chunks
 * here and pauses the sender's Ollama instead. Subclasses read their protocol's frames, call the
 * {@code on*} methods, and send its grant and cancel. Confined to one event loop.
 */
public abstract class WindowedResponse implements RelayResponse {

  private final int window;
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

  protected WindowedResponse(int window) {
    this.window = window;
  }

  /** Sends the sender credit for {@code chunks} more chunks. */
  protected abstract void sendGrant(int chunks);

  /** Tells the sender to stop: its answer is no longer wanted. */
  protected abstract void sendCancel();

  /** The stream has ended, however it ended: called once. */
  protected abstract void released();

  /** Who sends the answer, for messages: {@code site 'gpu-a'}, {@code edge 'lab'}. */
  protected abstract String sender();

  /** Completes with this response once the head has come, or fails before it (the dispatcher may fail over). */
  public final Future<RelayResponse> head() {
    return head.future();
  }

  public final boolean headReceived() {
    return headers != null;
  }

  public final boolean finished() {
    return finished;
  }

  public final boolean paused() {
    return paused;
  }

  /** Chunks received but not yet taken by the client: bounded by the credit window. */
  public final int buffered() {
    return pending.size();
  }

  // ---- what the sender sent ----

  /** The answer's head, with its first chunk when the frame carried one, and whether that was all. */
  public final void onHead(int status, MultiMap headers, Buffer firstChunk, boolean last) {
    if (finished) {
      return;
    }
    if (this.headers != null) {
      broken(sender() + " sent a second head");
      return;
    }
    this.status = status;
    this.headers = headers;
    if (firstChunk != null) {
      onData(firstChunk);
    }
    if (last) {
      onEnd();
    }
    head.tryComplete(this);
  }

  public final void onData(Buffer chunk) {
    if (finished) {
      return;
    }
    if (headers == null) {
      broken(sender() + " sent data before its head");
    } else if (sink != null && !paused && pending.isEmpty()) {
      deliver(chunk);
    } else if (pending.size() >= 2 * window) {
      broken(sender() + " sent more than it was granted");
    } else {
      pending.add(chunk);
    }
  }

  public final void onEnd() {
    if (finished) {
      return;
    }
    if (headers == null) {
      broken(sender() + " ended a stream before its head");
      return;
    }
    ended = true;
    drain();
  }

  /** The sender's error: before the head the request may go elsewhere ({@code retryable}); after it, the client's answer ends with it. */
  public final void onError(int status, String message, boolean retryable) {
    if (finished) {
      return;
    }
    if (headers == null) {
      finish();
      head.tryFail(new RelayException(status, message, retryable));
    } else {
      error = message;
      ended = true;
      drain();
    }
  }

  /** Gives up before the head: the sender is told to stop, and the head fails with {@code failure}. */
  protected final void abort(RelayException failure) {
    if (finished) {
      return;
    }
    sendCancel();
    finish();
    head.tryFail(failure);
  }

  /** The sender is gone or broke the protocol: end with an error (or fail over, before the head). */
  public final void broken(String message) {
    if (finished) {
      return;
    }
    sendCancel();
    finish();
    if (headers == null) {
      head.tryFail(new RelayException(502, message, true));
    } else if (sink != null) {
      sink.fail(message);
    } else {
      error = message;
    }
  }

  private void deliver(Buffer chunk) {
    sink.write(chunk);
    if (++consumed >= window / 2 && !paused) {
      grant();
    }
  }

  private void grant() {
    if (consumed > 0 && !finished) {
      int chunks = consumed;
      consumed = 0;
      sendGrant(chunks);
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
    } else if (!paused && consumed >= window / 2) {
      // Below half a window the sender still holds credit enough to keep sending: a grant for a
      // chunk or two would be a message per stream for nothing.
      grant();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    pending.clear();
    released();
  }

  // ---- RelayResponse, used by the HTTP layer on the same event loop ----

  @Override
  public final int status() {
    return status;
  }

  @Override
  public final MultiMap headers() {
    return headers;
  }

  @Override
  public final void start(BodySink sink) {
    this.sink = sink;
    if (finished && error != null) {
      sink.fail(error);
      return;
    }
    drain();
  }

  @Override
  public final void pause() {
    paused = true;
  }

  @Override
  public final void resume() {
    if (paused) {
      paused = false;
      drain();
    }
  }

  @Override
  public final void cancel() {
    if (!finished) {
      sendCancel();
      finish();
    }
  }
}
