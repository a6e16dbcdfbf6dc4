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

  private static final byte[] EVAL_COUNT = FinalStats.key("\"eval_count\":");
  private static final byte[] PROMPT_EVAL_COUNT = FinalStats.key("\"prompt_eval_count\":");
  private static final byte[] EVAL_DURATION = FinalStats.key("\"eval_duration\":");
  private static final byte[] PROMPT_TOKENS = FinalStats.key("\"prompt_tokens\":");
  private static final byte[] COMPLETION_TOKENS = FinalStats.key("\"completion_tokens\":");

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
    long eval = tail.number(EVAL_COUNT);
    long prompt = tail.number(PROMPT_EVAL_COUNT);
    long nanos = tail.number(EVAL_DURATION);
    return new Counts(prompt >= 0 ? prompt : tail.number(PROMPT_TOKENS),
        eval >= 0 ? eval : tail.number(COMPLETION_TOKENS),
        eval > 0 && nanos > 0 ? eval * 1e9 / nanos : -1);
  }
}
