package io.hivemesh.sim;

/**
 * The wire shape of an answer: native NDJSON chunks or OpenAI server-sent events, and the single
 * object sent when streaming is off.
 */
interface AnswerFormat {

  /** Native shapes answer load/unload requests with one JSON object even when streaming. */
  boolean nativeShape();

  /** Native streams are NDJSON, OpenAI streams server-sent events. */
  default String streamContentType() {
    return nativeShape() ? SimResponses.NDJSON : SimResponses.SSE;
  }

  /** Ollama labels its own objects with a charset, its OpenAI layer does not. */
  default String wholeContentType() {
    return nativeShape() ? SimResponses.JSON_UTF8 : SimResponses.JSON;
  }

  /** The chunk carrying token {@code i}. */
  void token(JsonOut out, Answer a, int i);

  /** What ends a stream: the done chunk (OpenAI: finish, usage, {@code [DONE]}). */
  void done(JsonOut out, Answer a);

  /** The one object of a non-streaming answer. */
  void whole(JsonOut out, Answer a);
}
