package io.hivemesh.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class LoopSweepTest {

  /** Work due at a deadline: when a sweep finds it late, it ends and leaves. */
  static final class Work extends LoopSweep.Entry {
    final String name;
    final long deadline;
    final List<String> late;
    Runnable alsoOnLate = () -> { };

    Work(String name, long afterMs, List<String> late) {
      this.name = name;
      this.deadline = System.nanoTime() + afterMs * 1_000_000;
      this.late = late;
    }

    @Override
    protected void check(long now) {
      if (now - deadline >= 0) {
        leave();
        late.add(name);
        alsoOnLate.run();
      }
    }
  }

  @Test
  void lateWorkIsFoundWithinASweepAndWhatLeftIsNot(Vertx vertx, VertxTestContext test) {
    List<String> late = new ArrayList<>();
    vertx.runOnContext(v -> {
      LoopSweep sweep = LoopSweep.current(vertx, "test", 20);
      assertSame(sweep, LoopSweep.current(vertx, "test", 20), "one sweep per loop and name");
      long start = System.nanoTime();
      Work soon = new Work("soon", 50, late);
      Work ended = new Work("ended", 50, late);
      Work later = new Work("later", 10_000, late);
      sweep.enter(soon);
      sweep.enter(ended);
      sweep.enter(later);
      sweep.enter(later);
      assertEquals(3, sweep.size(), "entering twice is entering once");
      ended.leave();
      ended.leave();
      vertx.setPeriodic(5, id -> {
        if (!late.isEmpty()) {
          vertx.cancelTimer(id);
          long tookMs = (System.nanoTime() - start) / 1_000_000;
          test.verify(() -> {
            assertEquals(List.of("soon"), late);
            assertTrue(tookMs >= 50 && tookMs < 50 + 1000, "found after " + tookMs + " ms");
            assertEquals(1, sweep.size());
          });
          later.leave();
          test.verify(() -> assertEquals(0, sweep.size()));
          test.completeNow();
        }
      });
    });
  }

  @Test
  void aCheckThatEndsOtherWorkDoesNotLoseTheRest(Vertx vertx, VertxTestContext test) {
    List<String> late = new ArrayList<>();
    vertx.runOnContext(v -> {
      LoopSweep sweep = LoopSweep.current(vertx, "test", 10);
      List<Work> all = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        Work w = new Work("w" + i, 0, late);
        all.add(w);
        sweep.enter(w);
      }
      // The list runs newest first: w9 is checked first and ends w8, its successor, as a closed
      // connection ends the other requests on it.
      all.get(9).alsoOnLate = () -> all.get(8).leave();
      vertx.setTimer(200, id -> test.verify(() -> {
        assertEquals(9, late.size(), late.toString());
        assertTrue(!late.contains("w8"), late.toString());
        assertEquals(0, sweep.size());
        test.completeNow();
      }));
    });
  }
}
