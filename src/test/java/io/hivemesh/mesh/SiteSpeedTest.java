package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.util.Map;
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
    assertEquals(SiteSpeed.Speeds.UNKNOWN, speed.measured());
    speed.answered("m:latest", finalLine(100, 500_000_000L, 2_000_000_000L));
    assertEquals(200.0, speed.measured().site().tokensPerSecond(), 1e-9);
    assertEquals(2000, speed.measured().site().loadMs());
    // A warm answer's few milliseconds of "load" are not a load; the average moves toward new speeds.
    speed.answered("m:latest", finalLine(100, 1_000_000_000L, 3_000_000L));
    assertEquals(2000, speed.measured().site().loadMs());
    assertEquals(180.0, speed.measured().site().tokensPerSecond(), 1e-9);
    assertEquals(speed.measured().site(), speed.measured().of("m:latest"), "one model: its figures are the site's");
  }

  @Test
  void ignoresWhatIsNotAFinalLine() {
    SiteSpeed speed = new SiteSpeed();
    speed.answered("m:latest", Buffer.buffer("{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n"));
    speed.answered("m:latest", Buffer.buffer("{\"object\":\"chat.completion\",\"usage\":{\"completion_tokens\":5}}"));
    speed.answered("m:latest", finalLine(1, 1_000_000L, 0));
    assertEquals(SiteSpeed.Speeds.UNKNOWN, speed.measured());
  }

  @Test
  void eachModelIsPricedAtItsOwnSpeedAndLoadTime() {
    SiteSpeed speed = new SiteSpeed();
    // A small model answers ten times as fast as a large one, and loads six times as fast.
    for (int i = 0; i < 20; i++) {
      speed.answered("small:latest", finalLine(100, 250_000_000L, 500_000_000L));
      speed.answered("large:latest", finalLine(100, 2_500_000_000L, 3_000_000_000L));
    }
    SiteSpeed.Speeds measured = speed.measured();
    assertEquals(400.0, measured.of("small:latest").tokensPerSecond(), 1e-6);
    assertEquals(500, measured.of("small:latest").loadMs());
    assertEquals(40.0, measured.of("large:latest").tokensPerSecond(), 1e-6);
    assertEquals(3000, measured.of("large:latest").loadMs());
    // A model that has not answered here is taken to be like the site's others: the site's average.
    SiteSpeed.Measured site = measured.site();
    assertTrue(site.tokensPerSecond() > 40 && site.tokensPerSecond() < 400, "site " + site);
    assertEquals(site, measured.of("never-asked:latest"));
  }

  @Test
  void aModelThatHasNotLoadedHereTakesTheSitesLoadTime() {
    SiteSpeed speed = new SiteSpeed();
    speed.answered("cold:latest", finalLine(100, 500_000_000L, 2_000_000_000L));
    speed.answered("warm:latest", finalLine(100, 1_000_000_000L, 3_000_000L));
    SiteSpeed.Measured warm = speed.measured().of("warm:latest");
    assertEquals(100.0, warm.tokensPerSecond(), 1e-9);
    assertEquals(speed.measured().site().loadMs(), warm.loadMs());
  }

  @Test
  void aSiteRemembersABoundedNumberOfModelsTheLeastRecentlyAnsweredGoFirst() {
    SiteSpeed speed = new SiteSpeed();
    for (int i = 0; i < SiteSpeed.MAX_MODELS + 10; i++) {
      speed.answered("model-" + i + ":latest", finalLine(100, 1_000_000_000L, 0));
      speed.answered("kept:latest", finalLine(100, 500_000_000L, 0));
    }
    Map<String, SiteSpeed.Measured> models = speed.measured().models();
    assertEquals(SiteSpeed.MAX_MODELS, models.size());
    assertTrue(models.containsKey("kept:latest"));
    assertFalse(models.containsKey("model-0:latest"));
    assertTrue(models.containsKey("model-" + (SiteSpeed.MAX_MODELS + 9) + ":latest"));
  }

  @Test
  void thePublishedFiguresAreTheSameObjectUntilAnAnswerChangesThem() {
    SiteSpeed speed = new SiteSpeed();
    speed.answered("m:latest", finalLine(100, 1_000_000_000L, 0));
    SiteSpeed.Speeds first = speed.measured();
    assertSame(first, speed.measured());
    speed.answered("m:latest", finalLine(1, 1_000_000L, 0)); // says nothing new
    assertSame(first, speed.measured());
    speed.answered("m:latest", finalLine(100, 2_000_000_000L, 0));
    assertEquals(90.0, speed.measured().of("m:latest").tokensPerSecond(), 1e-9);
  }
}
