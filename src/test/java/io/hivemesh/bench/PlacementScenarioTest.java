package io.hivemesh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The placement scenario's quick mode ({@code --speedup}) is the same scenario on a faster clock. */
class PlacementScenarioTest {

  @Test
  void aSpedUpScenarioIsTheSameScenarioOnAFasterClock() {
    List<IdealScheduler.Site> fast = PlacementScenario.SITES.stream().map(s -> PlacementScenario.spedUp(s, 4)).toList();
    double capacity = PlacementScenario.capacity(PlacementScenario.SITES, PlacementScenario.MIX);
    assertEquals(4 * capacity, PlacementScenario.capacity(fast, PlacementScenario.MIX), capacity * 1e-9);

    // The same arrivals, four times closer together, on the sped-up sites: every time a quarter.
    List<Shot> trace = Traces.poisson(PlacementScenario.MIX, capacity * 0.8, 30, 7);
    List<Shot> compressed = trace.stream().map(s -> s.at(s.atNanos() / 4, s.target())).toList();
    Recorder slow = IdealScheduler.run(PlacementScenario.SITES, trace);
    Recorder quick = IdealScheduler.run(fast, compressed);
    assertTrue(slow.ok() > 500, "a trace of " + slow.ok() + " requests is too small to compare");
    assertEquals(slow.ok(), quick.ok());
    assertEquals(slow.coldLoads(), quick.coldLoads());
    for (double p : new double[] {50, 99}) {
      assertEquals(slow.totalMs(p) / 4, quick.totalMs(p), slow.totalMs(p) / 4 * 0.02, "p" + p + " total");
      assertEquals(slow.firstChunkMs(p) / 4, quick.firstChunkMs(p), slow.firstChunkMs(p) / 4 * 0.02 + 0.01,
          "p" + p + " time to first chunk");
    }
    assertEquals(PlacementScenario.SITES.get(0), PlacementScenario.spedUp(PlacementScenario.SITES.get(0), 1));
  }
}
