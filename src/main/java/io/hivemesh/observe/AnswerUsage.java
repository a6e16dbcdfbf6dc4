package io.hivemesh.observe;

import io.hivemesh.relay.FinalStats;
import io.vertx.core.buffer.Buffer;

/**
 * The token counts an answer reports at its end, read from its last bytes without parsing the
 * answer: Ollama's final chunk ends with {@code prompt_eval_count}, {@code eval_count} and
 * {@code eval_duration}; an OpenAI answer carries {@code usage} with {@code prompt_tokens} and
 * {@code completion_tokens}. Only the last three chunks are kept, by reference (they are written
 * to the client and not changed after): a chunk costs three field writes, a long answer no memory,
 * and the bytes are read once, when the answer has ended.
 */
final class AnswerUsage {

  /** The last chunks, newest in {@code last}: a statistics line split by the reads still fits. */
  private Buffer third;
  private Buffer second;
  private Buffer last;

  void add(Buffer chunk) {
    if (chunk.length() == 0) {
      return;
    }
    third = second;
    second = last;
    last = chunk;
  }

  /** What the answer's end says; -1 for what it does not say. */
  record Counts(long promptTokens, long outputTokens, double tokensPerSecond) {
  }

  Counts counts() {
    FinalStats tail = FinalStats.ofTail(third, second, last);
    long eval = tail.evalCount();
    long prompt = tail.promptEvalCount();
    long nanos = tail.evalDurationNanos();
    return new Counts(prompt >= 0 ? prompt : tail.promptTokens(),
        eval >= 0 ? eval : tail.completionTokens(),
        eval > 0 && nanos > 0 ? eval * 1e9 / nanos : -1);
  }
}
