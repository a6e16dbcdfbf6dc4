package io.hivemesh.relay;

import io.vertx.core.buffer.Buffer;

/** Where a relayed response body goes. Exactly one of {@link #end()} or {@link #fail(String)} ends it. */
public interface BodySink {

  void write(Buffer chunk);

  void end();

  /** The body broke off after the head was sent: the writer ends the stream with an error line. */
  void fail(String message);
}
