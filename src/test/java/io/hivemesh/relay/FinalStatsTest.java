package io.hivemesh.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class FinalStatsTest {

  private static final String OLLAMA_END = "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":900000000,"
      + "\"load_duration\":3000000,\"prompt_eval_count\":12,\"prompt_eval_duration\":1000000,\"eval_count\":40,"
      + "\"eval_duration\":200000000}\n";

  private static FinalStats of(String... chunks) {
    Buffer[] buffers = new Buffer[chunks.length];
    for (int i = 0; i < chunks.length; i++) {
      buffers[i] = chunks[i] == null ? null : Buffer.buffer(chunks[i]);
    }
    return FinalStats.ofTail(buffers);
  }

  @Test
  void readsOllamasFourNumbers() {
    FinalStats s = of("{\"model\":\"m\",\"response\":\"\"," + OLLAMA_END);
    assertEquals(40, s.evalCount());
    assertEquals(12, s.promptEvalCount());
    assertEquals(200_000_000L, s.evalDurationNanos());
    assertEquals(3_000_000L, s.loadDurationNanos());
    assertEquals(-1, s.promptTokens());
  }

  @Test
  void aNameQuotedInsideTheAnswersTextIsNotRead() {
    // The model wrote JSON in its answer: in the line its quotes are escaped.
    FinalStats s = of("{\"response\":\"try {\\\"eval_count\\\":7, \\\"load_duration\\\": 9}\",\"done\":true,"
        + "\"eval_count\":40,\"eval_duration\":5}");
    assertEquals(40, s.evalCount());
    assertEquals(-1, s.loadDurationNanos());
  }

  @Test
  void aTailThatStartsInsideAStringIsReadAlike() {
    String line = "{\"response\":\"" + "a \\\" b ".repeat(200) + "\"," + OLLAMA_END;
    FinalStats s = of(line);
    assertEquals(40, s.evalCount());
    assertEquals(12, s.promptEvalCount());
  }

  @Test
  void theLastOccurrenceCounts() {
    FinalStats s = of("{\"eval_count\":1}\n", "{\"eval_count\":2,\"eval_duration\":3}\n");
    assertEquals(2, s.evalCount());
    FinalStats notANumber = of("{\"eval_count\":5}\n{\"eval_count\":null}");
    assertEquals(-1, notANumber.evalCount());
  }

  @Test
  void spacesAfterTheColonAreAllowed() {
    assertEquals(4, of("{\"prompt_tokens\": 7, \"completion_tokens\":  4}").completionTokens());
    assertEquals(7, of("{\"prompt_tokens\": 7, \"completion_tokens\":  4}").promptTokens());
  }

  @Test
  void readsAnOpenAiUsageBeforeDone() {
    FinalStats s = of("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":4,\"total_tokens\":11}}\n\n",
        null, "data: [DONE]\n\n");
    assertEquals(7, s.promptTokens());
    assertEquals(4, s.completionTokens());
    assertEquals(-1, s.evalCount());
  }

  @Test
  void namesThatOnlyEndLikeOnesItReadsAreNotRead() {
    FinalStats s = of("{\"my_eval_count\":3,\"xload_duration\":4,\"eval_count2\":5}");
    assertEquals(-1, s.evalCount());
    assertEquals(-1, s.loadDurationNanos());
  }

  @Test
  void onlyTheLastBytesAreRead() {
    FinalStats s = of("{" + OLLAMA_END, "y".repeat(FinalStats.TAIL_BYTES));
    assertEquals(-1, s.evalCount());
    FinalStats cut = of("{\"eval_count\":40," + "\"x\":1,".repeat(200));
    assertEquals(-1, cut.evalCount());
  }

  @Test
  void theSameEndReadAgainWithOlderChunksGivesTheSameNumbers() {
    // The site's speed reads the last chunk, the entry's token counts the last three: one read serves both.
    Buffer last = Buffer.buffer("{\"model\":\"m\"," + OLLAMA_END);
    assertEquals(40, FinalStats.ofTail(last).evalCount());
    FinalStats again = FinalStats.ofTail(Buffer.buffer("{\"eval_count\":1}\n"), null, last);
    assertEquals(40, again.evalCount());
    assertEquals(12, again.promptEvalCount());
    assertEquals(3_000_000L, again.loadDurationNanos());
  }

  @Test
  void anEndWhoseNumbersStartInAnOlderChunkIsReadAgainWithIt() {
    Buffer older = Buffer.buffer("{\"done\":true,\"load_duration\":3000000,\"prompt_eval_count\":12,");
    Buffer last = Buffer.buffer("\"eval_count\":40,\"eval_duration\":200000000}\n");
    FinalStats alone = FinalStats.ofTail(last);
    assertEquals(40, alone.evalCount());
    assertEquals(-1, alone.promptEvalCount());
    FinalStats whole = FinalStats.ofTail(older, last);
    assertEquals(12, whole.promptEvalCount());
    assertEquals(3_000_000L, whole.loadDurationNanos());
    // An OpenAI stream's usage comes in the chunk before [DONE]: read again, never answered from the first read.
    Buffer done = Buffer.buffer("data: [DONE]\n\n");
    assertEquals(-1, FinalStats.ofTail(done).promptTokens());
    assertEquals(7, FinalStats.ofTail(Buffer.buffer("data: {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":4}}\n\n"),
        null, done).promptTokens());
  }

  @Test
  void aNameThatStartsAChunkIsReadAgainWithTheByteBeforeIt() {
    // Alone, the last chunk's first name looks real; after the older chunk's backslash it is inside a string.
    Buffer last = Buffer.buffer("\"eval_count\":7,\"prompt_eval_count\":1,\"load_duration\":2,\"eval_duration\":3}");
    assertEquals(7, FinalStats.ofTail(last).evalCount());
    assertEquals(-1, FinalStats.ofTail(Buffer.buffer("{\"response\":\"\\"), last).evalCount());
  }
}
