package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a site's load entry is worth a cluster write. */
class LoadRefreshTest {

  private static final long MS = 1_000_000L;
  private static final int SMALL_MESH = 3;

  private static SiteState state(int inflight, long served) {
    return new SiteState("lab", "n1", 1, true, false, 1, 8, 8, inflight, Map.of(), Set.of("m"), served);
  }

  @Test
  void anUnchangedEntryIsRewrittenOnlyOnceAThirdOfItsTtlHasPassed() {
    LoadRefresh refresh = new LoadRefresh(3000);
    assertEquals(0, refresh.writeIn(state(0, 5), 0, SMALL_MESH), "nothing written yet");
    refresh.wrote(state(0, 5), 0);
    assertEquals(LoadRefresh.NOTHING_TO_WRITE, refresh.writeIn(state(0, 5), 250 * MS, SMALL_MESH));
    assertEquals(LoadRefresh.NOTHING_TO_WRITE, refresh.writeIn(state(0, 5), 999 * MS, SMALL_MESH));
    assertEquals(0, refresh.writeIn(state(0, 5), 1000 * MS, SMALL_MESH),
        "a third of the TTL keeps the entry alive with two refreshes to spare");
  }

  @Test
  void aLoadChangeWaitsFiftyMillisecondsSinceTheLastWriteInASmallMesh() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    assertEquals(40 * MS, refresh.writeIn(state(1, 5), 10 * MS, SMALL_MESH), "a request in flight");
    assertEquals(0, refresh.writeIn(state(1, 6), 50 * MS, SMALL_MESH), "one more served");
    assertEquals(0, refresh.writeIn(state(1, 6), 400 * MS, 5), "five members: still the fixed gap");
  }

  @Test
  void theGapForLoadChangesGrowsWithTheCluster() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    assertEquals(50 * MS, refresh.writeIn(state(1, 5), 50 * MS, 10), "ten members: 100 ms between writes");
    assertEquals(0, refresh.writeIn(state(1, 5), 100 * MS, 10));
    assertEquals(150 * MS, refresh.writeIn(state(1, 5), 50 * MS, 20), "twenty members: 200 ms");
  }

  @Test
  void whatChangesTheSitesStandingIsWrittenAtOnceWhateverTheGap() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    assertEquals(0, refresh.writeIn(new SiteState("lab", "n1", 1, true, true, 1, 8, 8, 0, Map.of(), Set.of("m"), 5), MS, 20),
        "draining");
    assertEquals(0, refresh.writeIn(new SiteState("lab", "n1", 1, false, false, 1, 8, 8, 0, Map.of(), Set.of("m"), 5), MS, 20),
        "unhealthy");
    assertEquals(0, refresh.writeIn(new SiteState("lab", "n1", 1, true, false, 1, 8, 8, 1, Map.of("m2", 1), Set.of("m", "m2"), 5),
        MS, 20), "a model loaded");
  }

  @Test
  void aFailedWriteIsRetriedAtTheNextCheck() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    refresh.forget();
    assertEquals(0, refresh.writeIn(state(0, 5), MS, SMALL_MESH));
  }
}
