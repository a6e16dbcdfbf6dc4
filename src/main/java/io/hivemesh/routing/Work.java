package io.hivemesh.routing;

/**
 * What a request asks of a site, as far as the entry can tell before it runs: an embedding, or an
 * answer the request caps at {@code maxTokens} ({@code num_predict}, or {@code max_tokens} in the
 * OpenAI form; 0 when it sets no cap). A cap is an upper bound, not a length: a long cap says
 * nothing, a short one says the answer is short.
 */
public record Work(boolean embedding, long maxTokens) {

  /** An answer of unknown length. */
  public static final Work ANSWER = new Work(false, 0);

  /** An embedding: no answer tokens. */
  public static final Work EMBEDDING = new Work(true, 0);

  /** An answer capped at {@code maxTokens} tokens, or of unknown length when that is not positive. */
  public static Work answer(long maxTokens) {
    return maxTokens > 0 ? new Work(false, maxTokens) : ANSWER;
  }
}
