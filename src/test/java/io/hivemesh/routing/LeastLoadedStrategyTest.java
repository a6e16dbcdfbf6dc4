package io.hivemesh.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LeastLoadedStrategyTest {

  @Test
  void ofTheTwoDrawnTakesTheOneWithLessLoadPerSlot() {
    // Draws a (index 0) and b (index 1): b has 2 in flight on 4 slots (0.5), a 1 on 1 slot (1.0).
    int[] draws = {0, 0};
    int[] i = {0};
    LeastLoadedStrategy s = new LeastLoadedStrategy((origin, bound) -> draws[i[0]++]);
    List<Candidate> order = s.order(new ArrayList<>(List.of(
        new Candidate("a", false, true, 1, 1, 1),
        new Candidate("b", false, true, 2, 2, 4),
        new Candidate("c", false, true, 0, 0, 1))));
    assertEquals("b", order.get(0).site());
    // The rest follow by load: c (0.0), then a (1.0).
    assertEquals(List.of("b", "c", "a"), order.stream().map(Candidate::site).toList());
  }

  @Test
  void neverSendsToTheMostLoadedSiteFirstWhenThereAreThree() {
    Random random = new Random(7);
    LeastLoadedStrategy s = new LeastLoadedStrategy((origin, bound) -> origin + random.nextInt(bound - origin));
    Map<String, Integer> firsts = new HashMap<>();
    for (int n = 0; n < 3000; n++) {
      List<Candidate> order = s.order(new ArrayList<>(List.of(
          new Candidate("idle", false, true, 0, 0, 1),
          new Candidate("half", false, true, 1, 1, 2),
          new Candidate("full", false, true, 8, 8, 1))));
      firsts.merge(order.get(0).site(), 1, Integer::sum);
      assertEquals(3, order.size());
    }
    assertEquals(null, firsts.get("full"));
    // Two choices out of three: the idle site wins whenever it is drawn, i.e. 2/3 of the time.
    int idle = firsts.get("idle");
    assertTrue(idle > 1800 && idle < 2200, "idle first " + idle + " times of 3000");
  }

  @Test
  void singleCandidateIsReturnedAsIs() {
    List<Candidate> one = new ArrayList<>(List.of(new Candidate("a", true, false, 3, 3, 1)));
    assertEquals(one, new LeastLoadedStrategy().order(one));
  }
}
