package io.hivemesh.observe;

import io.hivemesh.relay.FinalStats;
import io.vertx.core.buffer.Buffer;

/**
 * The token counts an answer reports at its end, read from its last bytes without parsing the
 * answer: Ollama's final chunk ends with {@code prompt_eval_count}, {@code eval_count} and
 * {@code eval_duration}; an OpenAI answer carries {@code usage} with {@code prompt_tokens} and
 * {@code completion_tokens}. Only the tail is kept, so a long answer costs no memory.
 */
final class AnswerUsage {

  /** Enough for Ollama's final statistics line or an OpenAI usage object. */
  static final int TAIL_BYTES = 768;

  private final byte[] tail = new byte[TAIL_BYTES];
  private int length;

  void add(Buffer chunk) {
    int n = chunk.length();
    if (n >= TAIL_BYTES) {
      chunk.getBytes(n - TAIL_BYTES, n, tail, 0);
      length = TAIL_BYTES;
      return;
    }
    int keep = Math.min(length, TAIL_BYTES - n);
    System.arraycopy(tail, length - keep, tail, 0, keep);
    chunk.getBytes(0, n, tail, keep);
    length = keep + n;
  }

  /** What the answer's end says; -1 for what it does not say. */
  record Counts(long promptTokens, long outputTokens, double tokensPerSecond) {
  }

  Counts counts() {
    String text = new String(tail, 0, length, java.nio.charset.StandardCharsets.ISO_8859_1);
    long eval = FinalStats.number(text, "\"eval_count\":");
    long prompt = FinalStats.number(text, "\"prompt_eval_count\":");
    long nanos = FinalStats.number(text, "\"eval_duration\":");
    return new Counts(prompt >= 0 ? prompt : FinalStats.number(text, "\"prompt_tokens\":"),
        eval >= 0 ? eval : FinalStats.number(text, "\"completion_tokens\":"),
        eval > 0 && nanos > 0 ? eval * 1e9 / nanos : -1);
  }
}
