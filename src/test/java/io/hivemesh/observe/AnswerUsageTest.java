package io.hivemesh.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class AnswerUsageTest {

  private static final String FINAL_LINE = "{\"model\":\"m\",\"created_at\":\"2024-01-01T00:00:00Z\",\"response\":\"\","
      + "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":900000000,\"load_duration\":3000000,"
      + "\"prompt_eval_count\":12,\"prompt_eval_duration\":1000000,\"eval_count\":40,\"eval_duration\":200000000}\n";

  private static AnswerUsage.Counts countsOf(String... chunks) {
    AnswerUsage usage = new AnswerUsage();
    for (String c : chunks) {
      usage.add(Buffer.buffer(c));
    }
    return usage.counts();
  }

  private static void assertOllamaCounts(AnswerUsage.Counts c) {
    assertEquals(12, c.promptTokens());
    assertEquals(40, c.outputTokens());
    assertEquals(200.0, c.tokensPerSecond(), 1e-9);
  }

  @Test
  void readsOllamasFinalLineAtTheEndOfAStream() {
    String token = "{\"model\":\"m\",\"response\":\"hi\",\"done\":false}\n";
    assertOllamaCounts(countsOf(token, token, token, token, token, FINAL_LINE));
  }

  @Test
  void readsAWholeAnswerWhoseContextComesBeforeTheStatistics() {
    String context = "1,".repeat(5000);
    String answer = "{\"model\":\"m\",\"response\":\"" + "x".repeat(2000) + "\",\"context\":[" + context + "1],"
        + FINAL_LINE.substring(FINAL_LINE.indexOf("\"done\""));
    assertOllamaCounts(countsOf(answer));
  }

  @Test
  void readsAFinalLineThatTheReadsSplitInThree() {
    int a = FINAL_LINE.indexOf("prompt_eval_count") + 5;
    int b = FINAL_LINE.indexOf("eval_duration\":2") + 3;
    assertOllamaCounts(countsOf("{\"response\":\"hi\",\"done\":false}\n", FINAL_LINE.substring(0, a),
        FINAL_LINE.substring(a, b), FINAL_LINE.substring(b)));
  }

  @Test
  void emptyChunksDoNotPushTheStatisticsOut() {
    int half = FINAL_LINE.length() / 2;
    assertOllamaCounts(countsOf(FINAL_LINE.substring(0, half), "", FINAL_LINE.substring(half), "", ""));
  }

  @Test
  void readsAnOpenAiUsageChunkFollowedByDone() {
    AnswerUsage.Counts c = countsOf("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":4,\"total_tokens\":11}}\n\n",
        "data: [DONE]\n\n");
    assertEquals(7, c.promptTokens());
    assertEquals(4, c.outputTokens());
    assertEquals(-1, c.tokensPerSecond());
  }

  @Test
  void anAnswerWithoutStatisticsSaysNothing() {
    AnswerUsage.Counts c = countsOf("{\"embeddings\":[[0.1,0.2]]}");
    assertEquals(-1, c.promptTokens());
    assertEquals(-1, c.outputTokens());
    assertEquals(-1, c.tokensPerSecond());
  }

  @Test
  void onlyTheLastBytesAreRead() {
    // Statistics far before the end (not where an answer puts them) are out of the tail's reach.
    AnswerUsage.Counts c = countsOf(FINAL_LINE, "y".repeat(1000));
    assertEquals(-1, c.outputTokens());
  }
}
