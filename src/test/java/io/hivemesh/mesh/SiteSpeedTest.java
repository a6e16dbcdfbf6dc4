package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class SiteSpeedTest {

  private static Buffer finalLine(long evalCount, long evalNanos, long loadNanos) {
    return Buffer.buffer("{\"model\":\"m\",\"created_at\":\"2024-01-01T00:00:00Z\",\"response\":\"\",\"done\":true,"
        + "\"done_reason\":\"stop\",\"total_duration\":900000000,\"load_duration\":" + loadNanos
        + ",\"prompt_eval_count\":12,\"prompt_eval_duration\":1000000,\"eval_count\":" + evalCount
        + ",\"eval_duration\":" + evalNanos + "}\n");
  }

  @Test
  void learnsTokensPerSecondAndLoadTimeFromOllamasFinalLine() {
    SiteSpeed speed = new SiteSpeed();
    assertEquals(SiteSpeed.Measured.UNKNOWN, speed.measured());
    speed.answered(finalLine(100, 500_000_000L, 2_000_000_000L));
    assertEquals(200.0, speed.measured().tokensPerSecond(), 1e-9);
    assertEquals(2000, speed.measured().loadMs());
    // A warm answer's few milliseconds of "load" are not a load; the average moves toward new speeds.
    speed.answered(finalLine(100, 1_000_000_000L, 3_000_000L));
    assertEquals(2000, speed.measured().loadMs());
    assertEquals(180.0, speed.measured().tokensPerSecond(), 1e-9);
  }

  @Test
  void ignoresWhatIsNotAFinalLine() {
    SiteSpeed speed = new SiteSpeed();
    speed.answered(Buffer.buffer("{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n"));
    speed.answered(Buffer.buffer("{\"object\":\"chat.completion\",\"usage\":{\"completion_tokens\":5}}"));
    speed.answered(finalLine(1, 1_000_000L, 0));
    assertEquals(SiteSpeed.Measured.UNKNOWN, speed.measured());
  }
}
