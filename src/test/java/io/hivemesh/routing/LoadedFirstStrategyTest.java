package io.hivemesh.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

  private static final LoadedFirstStrategy.Defaults NONE = LoadedFirstStrategy.Defaults.of(List.of());

  @Test
  void expectedTimeGrowsWithQueueAndColdness() {
    double free = LoadedFirstStrategy.expectedSeconds(new Candidate("x", false, true, 0, 0, 1), NONE);
    double full = LoadedFirstStrategy.expectedSeconds(new Candidate("x", false, true, 1, 1, 1), NONE);
    double cold = LoadedFirstStrategy.expectedSeconds(new Candidate("x", false, false, 0, 0, 1), NONE);
    double evicting = LoadedFirstStrategy.expectedSeconds(new Candidate("x", false, false, 0, 0, 1, true), NONE);
    assertEquals(true, free < full && full < cold && cold < evicting, free + " " + full + " " + cold + " " + evicting);
  }

  private static Candidate measured(String site, boolean loaded, int inflight, int slots, boolean evicts, double tps,
                                    long loadMs) {
    return new Candidate(site, false, loaded, inflight, inflight, slots, evicts, tps, loadMs);
  }

  @Test
  void aFastBusySiteBeatsASlowIdleOneUntilItsQueueIsLonger() {
    // 100 tokens take 0.25 s at 400 tokens/s and 2 s at 50: waiting for one of four slots is quicker.
    assertEquals(List.of("fast", "slow"), order(
        measured("slow", true, 0, 1, false, 50, 0),
        measured("fast", true, 4, 4, false, 400, 0)));
    assertEquals(List.of("slow", "fast"), order(
        measured("slow", true, 0, 1, false, 50, 0),
        measured("fast", true, 40, 4, false, 400, 0)));
  }

  @Test
  void anAnswerCappedShortTakesASlowFreeSlotRatherThanQueueAtAFastSite() {
    Candidate slowIdle = measured("slow", true, 0, 1, false, 50, 0);
    Candidate fastFull = measured("fast", true, 4, 4, false, 400, 0);
    // A 100-token answer: 2 s on the slow site, 0.81 s behind the fast site's queue.
    assertEquals("fast", strategy.order(new ArrayList<>(List.of(slowIdle, fastFull)), Work.ANSWER).get(0).site());
    // Ten tokens: 0.2 s on the slow site at once; the fast site's queue alone is 0.56 s.
    assertEquals("slow", strategy.order(new ArrayList<>(List.of(slowIdle, fastFull)), Work.answer(10)).get(0).site());
  }

  @Test
  void aCapOfATurnOrMoreIsPricedAsAnAnswerOfUnknownLength() {
    Candidate fastFull = measured("fast", true, 4, 4, false, 400, 0);
    for (Work capped : List.of(Work.answer(100), Work.answer(4096))) {
      assertEquals(LoadedFirstStrategy.ownScale(Work.ANSWER), LoadedFirstStrategy.ownScale(capped));
      assertEquals(LoadedFirstStrategy.queueScale(Work.ANSWER), LoadedFirstStrategy.queueScale(capped));
    }
    // A short cap shrinks the request's own work, not the queue ahead of it.
    double uncapped = LoadedFirstStrategy.expectedSeconds(fastFull, NONE, 1, 1);
    double capped = LoadedFirstStrategy.expectedSeconds(fastFull, NONE, LoadedFirstStrategy.ownScale(Work.answer(10)),
        LoadedFirstStrategy.queueScale(Work.answer(10)));
    assertEquals(uncapped - 0.9 * 0.25, capped, 1e-9);
    assertEquals(Work.ANSWER, Work.answer(0));
    assertEquals(Work.ANSWER, Work.answer(-1));
  }

  @Test
  void aMeasuredLoadTimeDecidesWhetherLoadingBeatsQueueing() {
    assertEquals("quick-load", order(
        measured("quick-load", false, 0, 2, false, 100, 200),
        measured("busy-warm", true, 4, 2, false, 100, 0)).get(0));
    assertEquals("busy-warm", order(
        measured("slow-load", false, 0, 2, false, 100, 10_000),
        measured("busy-warm", true, 4, 2, false, 100, 0)).get(0));
  }

  @Test
  void aSlowerSiteWithRoomBeatsAFastOneWhoseLoadEvictsAModelsOnlyCopy() {
    assertEquals(List.of("roomy-slow", "fast-full"), order(
        measured("fast-full", false, 0, 4, true, 400, 1500),
        measured("roomy-slow", false, 0, 2, false, 100, 1500)));
  }

  @Test
  void aFastSiteWhoseLoadEvictsOnlyModelsHeldElsewhereBeatsASlowerSiteWithRoom() {
    // The placement benchmark's case: gpu-a (400 tokens/s, 4 slots, full) against cpu-c (100, 2,
    // room). If what gpu-a would push out is loaded at another site too, its traffic has a home.
    Candidate fastFull = new Candidate("fast-full", false, false, 0, 0, 4, true, 400, 1500, 0.0);
    Candidate roomySlow = measured("roomy-slow", false, 0, 2, false, 100, 1500);
    assertEquals(List.of("fast-full", "roomy-slow"), order(fastFull, roomySlow));
    // One of three idle models there being an only copy still leaves the fast site ahead.
    assertEquals("fast-full", order(new Candidate("fast-full", false, false, 0, 0, 4, true, 400, 1500, 1.0 / 3),
        roomySlow).get(0));
    // Every idle model there being an only copy does not.
    assertEquals("roomy-slow", order(new Candidate("fast-full", false, false, 0, 0, 4, true, 400, 1500, 1.0),
        roomySlow).get(0));
  }

  @Test
  void evictingAnOnlyCopyCostsMoreThanEvictingOneOfSeveral() {
    double copy = LoadedFirstStrategy.expectedSeconds(
        new Candidate("x", false, false, 0, 0, 1, true, 100, 1000, 0.0), NONE);
    double half = LoadedFirstStrategy.expectedSeconds(
        new Candidate("x", false, false, 0, 0, 1, true, 100, 1000, 0.5), NONE);
    double only = LoadedFirstStrategy.expectedSeconds(
        new Candidate("x", false, false, 0, 0, 1, true, 100, 1000, 1.0), NONE);
    double room = LoadedFirstStrategy.expectedSeconds(
        new Candidate("x", false, false, 0, 0, 1, false, 100, 1000), NONE);
    assertEquals(true, room < copy && copy < half && half < only, room + " " + copy + " " + half + " " + only);
    assertEquals(3.0, only - room, 1e-9, "an only copy: three loads more");
  }

  @Test
  void anUnmeasuredLoadCostsWhatTheOthersMeasuredNotLessForAFasterSite() {
    // The fast site has never loaded anything; the slow one took 1.5 s. A load at the fast site that
    // evicts a model in use is not cheap just because the site generates quickly.
    assertEquals(List.of("roomy-slow", "fast-full"), order(
        measured("fast-full", false, 0, 4, true, 400, 0),
        measured("roomy-slow", false, 0, 2, false, 100, 1500)));
    assertEquals(1.5, LoadedFirstStrategy.Defaults.of(List.of(measured("a", false, 0, 1, false, 100, 1500),
        measured("b", false, 0, 1, false, 400, 0))).loadSeconds());
  }

  @Test
  void aSiteThatHasNotMeasuredItsSpeedCountsAsAverage() {
    List<Candidate> sites = List.of(
        measured("slow", true, 0, 1, false, 100, 0),
        measured("fast", true, 0, 1, false, 300, 0),
        measured("new", true, 0, 1, false, 0, 0));
    assertEquals(200.0, LoadedFirstStrategy.Defaults.of(sites).tokensPerSecond());
    assertEquals(List.of("fast", "new", "slow"), order(sites.toArray(Candidate[]::new)));
  }

  @Test
  void anEmbeddingWaitsInAShortQueueRatherThanLoadTheModelSomewhereFaster() {
    Candidate slowQueued = measured("slow-queued", true, 2, 1, false, 50, 1500);
    Candidate fastCold = measured("fast-cold", false, 0, 4, true, 400, 1500);
    // Two 100-token answers ahead on a slow site take longer than loading the model on a fast one...
    assertEquals("fast-cold", strategy.order(new ArrayList<>(List.of(slowQueued, fastCold)), Work.ANSWER).get(0).site());
    // ...but two embeddings ahead take milliseconds.
    assertEquals("slow-queued", strategy.order(new ArrayList<>(List.of(slowQueued, fastCold)), Work.EMBEDDING).get(0).site());
  }
}
