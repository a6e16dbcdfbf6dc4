package io.hivemesh.sim;

/**
 * One generated answer and what its final chunk reports. Formats read it; {@link Generation} fills
 * in the timings when the answer is done.
 */
final class Answer {

  final String model;
  final String[] tokens;
  final String doneReason;
  final int promptTokens;
  /** Generate's token ids, or null (chat, raw generate, load and unload answers). */
  final int[] context;
  /** The OpenAI id ({@code chatcmpl-N}, {@code cmpl-N}), or null on native routes. */
  final String id;
  final boolean includeUsage;

  /** OpenAI pins one {@code created} on every chunk of a stream: the first chunk's. */
  long created = -1;
  long totalNanos;
  long loadNanos;
  long promptEvalNanos;
  long evalNanos;

  Answer(String model, String[] tokens, String doneReason, int promptTokens, int[] context, String id,
      boolean includeUsage) {
    this.model = model;
    this.tokens = tokens;
    this.doneReason = doneReason;
    this.promptTokens = promptTokens;
    this.context = context;
    this.id = id;
    this.includeUsage = includeUsage;
  }

  /** A load or unload answer: no tokens, no metrics. */
  static Answer bare(String model, String doneReason, String id) {
    return new Answer(model, new String[0], doneReason, 0, null, id, false);
  }

  String text() {
    return String.join("", tokens);
  }

  long createdUnix() {
    if (created < 0) {
      created = GoTime.unixNow();
    }
    return created;
  }

  /** Ollama's Metrics, each omitted when zero. */
  void metrics(JsonOut out) {
    out.fieldNonZero("total_duration", totalNanos)
        .fieldNonZero("load_duration", loadNanos)
        .fieldNonZero("prompt_eval_count", promptTokens)
        .fieldNonZero("prompt_eval_duration", promptEvalNanos)
        .fieldNonZero("eval_count", tokens.length)
        .fieldNonZero("eval_duration", evalNanos);
  }

  /** OpenAI's usage object. */
  void usage(JsonOut out) {
    out.key("usage").obj()
        .field("prompt_tokens", promptTokens)
        .field("completion_tokens", tokens.length)
        .field("total_tokens", promptTokens + tokens.length)
        .end();
  }
}
