package io.hivemesh.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinStrategyTest {

  private static List<Candidate> sites() {
    // Deliberately unsorted and unequal: round-robin must ignore load and input order.
    return new ArrayList<>(List.of(
        new Candidate("c", false, true, 9, 9, 1),
        new Candidate("a", true, false, 0, 0, 4),
        new Candidate("b", false, true, 1, 1, 2)));
  }

  @Test
  void visitsEverySiteInTurnWhateverTheLoad() {
    RoundRobinStrategy rr = new RoundRobinStrategy();
    List<String> firsts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      firsts.add(rr.order(sites()).get(0).site());
    }
    assertEquals(List.of("a", "b", "c", "a", "b", "c"), firsts);
  }

  @Test
  void keepsEverySiteAsFallback() {
    List<Candidate> order = new RoundRobinStrategy().order(sites());
    assertEquals(3, order.size());
    assertEquals(List.of("a", "b", "c"), order.stream().map(Candidate::site).toList());
  }

  @Test
  void spreadsEvenlyOverManyRequests() {
    RoundRobinStrategy rr = new RoundRobinStrategy();
    Map<String, Integer> count = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      count.merge(rr.order(sites()).get(0).site(), 1, Integer::sum);
    }
    assertEquals(Map.of("a", 100, "b", 100, "c", 100), count);
  }
}
