package io.hivemesh.relay;

import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading an answer's statistics from its end, as every answer's end is read by the site (its speed)
 * and the entry (its token counts), the second read served by the first when the numbers were all in
 * the last chunk: Ollama's final streamed line, a whole /api/generate answer
 * whose context array comes before the statistics, and an OpenAI stream's usage chunk and
 * {@code [DONE]} (no Ollama names: the whole tail is read).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FinalStatsBench {

  @Param({"final-line", "generate-with-context", "openai-usage"})
  public String answer;

  /** Two copies of the answer's chunks, read in turn: a reader remembers the last chunk it read. */
  private Buffer[][] answers;
  private int turn;

  @Setup
  public void setUp() {
    answers = new Buffer[][] {chunks(), chunks()};
  }

  private Buffer[] chunks() {
    String stats = "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":912345678,\"load_duration\":3456789,"
        + "\"prompt_eval_count\":26,\"prompt_eval_duration\":123456789,\"eval_count\":298,\"eval_duration\":4709213000}";
    return switch (answer) {
      case "final-line" -> new Buffer[] {Buffer.buffer("{\"model\":\"llama3.2\",\"response\":\" the\",\"done\":false}\n"),
          Buffer.buffer("{\"model\":\"llama3.2\",\"created_at\":\"2024-06-01T10:00:00.000000Z\",\"response\":\"\","
              + stats + "\n")};
      case "generate-with-context" -> new Buffer[] {Buffer.buffer("{\"model\":\"llama3.2\",\"response\":\""
          + "word ".repeat(300) + "\",\"context\":[" + "12345,".repeat(400) + "1]," + stats)};
      default -> new Buffer[] {Buffer.buffer("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
          + "\"choices\":[],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":298,\"total_tokens\":324}}\n\n"),
          Buffer.buffer("data: [DONE]\n\n")};
    };
  }

  /** One answer's end read once. */
  @Benchmark
  public long read() {
    return sum(FinalStats.ofTail(answers[turn++ & 1]));
  }

  /** One answer's end as a node reads it: the last chunk for the site's speed, then the last chunks for the entry's counts. */
  @Benchmark
  public long answerEnd() {
    Buffer[] chunks = answers[turn++ & 1];
    long site = sum(FinalStats.ofTail(chunks[chunks.length - 1]));
    return site + sum(FinalStats.ofTail(chunks));
  }

  private static long sum(FinalStats s) {
    return s.evalCount() + s.promptEvalCount() + s.evalDurationNanos() + s.loadDurationNanos() + s.promptTokens()
        + s.completionTokens();
  }
}
