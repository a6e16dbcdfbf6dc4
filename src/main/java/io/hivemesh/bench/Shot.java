package io.hivemesh.bench;

import io.vertx.core.buffer.Buffer;

/**
 * One request of a load: when it is due (nanoseconds after the load starts), which target it goes
 * to, and what it asks.
 *
 * @param atNanos due time, relative to the start of the load
 * @param target index into the load's targets
 * @param path request path, e.g. {@code /api/chat}
 * @param body JSON request body
 * @param model the model asked for (for the ideal scheduler and the report)
 * @param work what the request costs a site, in the sim's timing model
 */
public record Shot(long atNanos, int target, String path, Buffer body, String model, Work work) {

  /** What a request costs a site: prompt tokens processed, then answer tokens generated. */
  public record Work(boolean embedding, int promptTokens, int answerTokens, boolean stream) {
  }

  Shot at(long nanos, int targetIndex) {
    return new Shot(nanos, targetIndex, path, body, model, work);
  }
}
