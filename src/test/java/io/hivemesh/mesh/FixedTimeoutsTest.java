package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class FixedTimeoutsTest {

  /** What waits: answered once the test says so. */
  static final class Item {
    final String name;
    final long addedAt = System.nanoTime();
    boolean answered;

    Item(String name) {
      this.name = name;
    }
  }

  @Test
  void whatStillWaitsRunsOutAfterTheDelayInOrder(Vertx vertx, VertxTestContext test) {
    List<String> expired = new ArrayList<>();
    vertx.runOnContext(v -> {
      FixedTimeouts<Item> timeouts = new FixedTimeouts<>(vertx, 50, i -> !i.answered, i -> {
        test.verify(() -> assertTrue(System.nanoTime() - i.addedAt >= 50_000_000L, i.name + " ran out early"));
        expired.add(i.name);
      });
      Item first = new Item("first");
      Item answered = new Item("answered");
      timeouts.add(first);
      timeouts.add(answered);
      answered.answered = true;
      // Added 30 ms later: it runs out 30 ms after the first, under the timer re-armed for it.
      vertx.setTimer(30, t -> timeouts.add(new Item("later")));
      vertx.setTimer(400, t -> test.verify(() -> {
        assertEquals(List.of("first", "later"), expired);
        assertEquals(0, timeouts.size());
        test.completeNow();
      }));
    });
  }

  @Test
  void answeredItemsLeaveTheHeadWhenTheNextIsAdded(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      List<Item> items = new ArrayList<>();
      FixedTimeouts<Item> timeouts = new FixedTimeouts<>(vertx, 10_000, i -> !i.answered,
          i -> test.failNow("nothing should run out"));
      for (int n = 0; n < 1000; n++) {
        Item i = new Item("i" + n);
        items.add(i);
        timeouts.add(i);
      }
      assertEquals(1000, timeouts.size());
      items.forEach(i -> i.answered = true);
      timeouts.add(new Item("last"));
      test.verify(() -> assertEquals(1, timeouts.size()));
      timeouts.clear();
      test.completeNow();
    });
  }

  @Test
  void aClearedQueueRunsNothing(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      FixedTimeouts<Item> timeouts = new FixedTimeouts<>(vertx, 20, i -> true, i -> test.failNow("ran after clear"));
      timeouts.add(new Item("a"));
      timeouts.clear();
      vertx.setTimer(100, t -> test.completeNow());
    });
  }
}
