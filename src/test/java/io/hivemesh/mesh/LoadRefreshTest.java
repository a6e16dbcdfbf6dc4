package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a site's load entry is worth a cluster write. */
class LoadRefreshTest {

  private static final long MS = 1_000_000L;

  private static SiteState state(int inflight, long served) {
    return new SiteState("lab", "n1", 1, true, false, 1, 8, 8, inflight, Map.of(), Set.of("m"), served);
  }

  @Test
  void anUnchangedEntryIsRewrittenOnlyOnceAThirdOfItsTtlHasPassed() {
    LoadRefresh refresh = new LoadRefresh(3000);
    assertTrue(refresh.due(state(0, 5), 0), "nothing written yet");
    refresh.wrote(state(0, 5), 0);
    assertFalse(refresh.due(state(0, 5), 250 * MS));
    assertFalse(refresh.due(state(0, 5), 999 * MS));
    assertTrue(refresh.due(state(0, 5), 1000 * MS), "a third of the TTL keeps the entry alive with two refreshes to spare");
  }

  @Test
  void aChangedEntryIsWrittenAtOnce() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    assertTrue(refresh.due(state(1, 5), MS), "a request in flight");
    assertTrue(refresh.due(state(0, 6), MS), "one more served");
    assertTrue(refresh.due(new SiteState("lab", "n1", 1, true, true, 1, 8, 8, 0, Map.of(), Set.of("m"), 5), MS),
        "draining");
  }

  @Test
  void aFailedWriteIsRetriedAtTheNextCheck() {
    LoadRefresh refresh = new LoadRefresh(3000);
    refresh.wrote(state(0, 5), 0);
    refresh.forget();
    assertTrue(refresh.due(state(0, 5), MS));
  }
}
