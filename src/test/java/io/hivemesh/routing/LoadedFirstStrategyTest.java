package io.hivemesh.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoadedFirstStrategyTest {

  private final LoadedFirstStrategy strategy = new LoadedFirstStrategy();

  private List<String> order(Candidate... c) {
    return strategy.order(new ArrayList<>(List.of(c))).stream().map(Candidate::site).toList();
  }

  @Test
  void loadedWithAFreeSlotBeatsAnIdleColdSite() {
    assertEquals(List.of("warm", "cold"), order(
        new Candidate("cold", false, false, 0, 0, 4),
        new Candidate("warm", false, true, 1, 5, 2)));
  }

  @Test
  void aBusyLoadedSiteKeepsTrafficUntilItsQueueIsDeep() {
    // One request waiting per slot at the warm site is still cheaper than a cold load.
    assertEquals("busy-warm", order(
        new Candidate("cold", false, false, 0, 0, 1),
        new Candidate("busy-warm", false, true, 2, 2, 2)).get(0));
    // Far past the penalty, the cold site loads the model instead.
    assertEquals("cold", order(
        new Candidate("cold", false, false, 0, 0, 1),
        new Candidate("busy-warm", false, true, 12, 12, 2)).get(0));
  }

  @Test
  void aColdSiteWithRoomForTheModelBeatsOneThatMustEvictAnother() {
    // The bigger site would be chosen on slots alone, but its load pushes out a model in use.
    assertEquals(List.of("roomy", "full"), order(
        new Candidate("full", false, false, 0, 0, 4, true),
        new Candidate("roomy", false, false, 0, 0, 2, false)));
    // Past a deep enough queue at the roomy site, evicting is the lesser evil.
    assertEquals("full", order(
        new Candidate("full", false, false, 0, 0, 4, true),
        new Candidate("roomy", false, false, 12, 12, 2, false)).get(0));
  }

  @Test
  void amongFreeSlotsTheLeastLoadedComesFirst() {
    assertEquals(List.of("b", "a"), order(
        new Candidate("a", false, true, 3, 3, 4),
        new Candidate("b", false, true, 1, 1, 4)));
  }

  @Test
  void amongColdSitesTheLeastLoadedComesFirst() {
    assertEquals(List.of("quiet", "busy"), order(
        new Candidate("busy", false, false, 3, 7, 1),
        new Candidate("quiet", false, false, 0, 1, 1)));
  }

  @Test
  void equallyGoodSitesShareTheTraffic() {
    Set<String> firsts = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      firsts.add(order(
          new Candidate("a", false, true, 0, 0, 2),
          new Candidate("b", false, true, 0, 0, 2),
          new Candidate("c", false, true, 0, 0, 2)).get(0));
    }
    assertEquals(Set.of("a", "b", "c"), firsts);
  }

  @Test
  void theOwnSiteWinsAnExactTieSinceItSavesAHop() {
    for (int i = 0; i < 4; i++) {
      assertEquals("self", order(
          new Candidate("peer", false, true, 1, 1, 2),
          new Candidate("self", true, true, 1, 1, 2)).get(0));
    }
  }

  @Test
  void expectedWaitGrowsWithQueueAndColdness() {
    Candidate free = new Candidate("x", false, true, 0, 0, 1);
    Candidate full = new Candidate("x", false, true, 1, 1, 1);
    Candidate cold = new Candidate("x", false, false, 0, 0, 1);
    double wFree = LoadedFirstStrategy.expectedWait(free);
    double wFull = LoadedFirstStrategy.expectedWait(full);
    double wCold = LoadedFirstStrategy.expectedWait(cold);
    assertEquals(0.0, wFree);
    assertEquals(true, wFull > wFree);
    assertEquals(true, wCold > wFull);
    assertNotEquals(wFull, wCold);
  }
}
