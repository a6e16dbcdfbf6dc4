package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A site's published entry, as peers read it back, and where they send its streams. */
class SiteStateTest {

  @Test
  void aFullNodesEntryIsUnchangedAndAddressesItsOwnInboxes() {
    SiteState node = new SiteState("lab", "n1", 2, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0);
    assertFalse(node.toJson().containsKey("via"));
    assertEquals(node, SiteState.fromJson(node.toJson()));
    assertEquals("hive.v2.site.lab.1", node.inbox(1));
  }

  @Test
  void anEdgesEntryNamesItsNodeAndAnAddressOfItsAttachment() {
    SiteState edge = new SiteState("laptop", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0, 0, 0, "a", "att-1", 0);
    assertEquals(edge, SiteState.fromJson(edge.toJson()));
    assertEquals("hive.v2.edge.laptop.att-1.0", edge.inbox(0));
    SiteState again = new SiteState("laptop", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0, 0, 0, "a", "att-2", 0);
    assertNotEquals(edge.inbox(0), again.inbox(0), "a new attachment never reuses the old one's inbox");
  }

  @Test
  void aSiteSaysWhetherOneMoreLoadWouldEvictAModel() {
    SiteState full = new SiteState("gpu", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of("a", "b"), 0, 0, 0, null, null, 2);
    assertEquals(full, SiteState.fromJson(full.toJson()));
    assertTrue(full.loadEvicts());
    SiteState room = new SiteState("gpu", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of("a"), 0, 0, 0, null, null, 2);
    assertFalse(room.loadEvicts());
    // A peer that does not publish the limit (older, or an edge) never counts as full.
    assertFalse(SiteState.fromJson(full.toJson().put("max_loaded", 0)).loadEvicts());
    io.vertx.core.json.JsonObject old = full.toJson();
    old.remove("max_loaded");
    assertFalse(SiteState.fromJson(old).loadEvicts());
  }

  @Test
  void aSitesMeasuredSpeedTravelsWithItsEntry() {
    SiteState fast = new SiteState("gpu", "n1", 1, true, false, 4, 8, 8, 0, Map.of(), Set.of("a"), 0, 0, 0, null, null, 2,
        new SiteSpeed.Speeds(new SiteSpeed.Measured(212.5, 1500),
            Map.of("small:latest", new SiteSpeed.Measured(400, 500), "large:latest", new SiteSpeed.Measured(25, 0))));
    SiteState read = SiteState.fromJson(fast.toJson());
    assertEquals(fast, read);
    assertEquals(new SiteSpeed.Measured(25, 1500), read.speed().of("large:latest"), "its load time is the site's");
    io.vertx.core.json.JsonObject old = fast.toJson();
    old.remove("speeds");
    assertEquals(new SiteSpeed.Speeds(new SiteSpeed.Measured(212.5, 1500), Map.of()), SiteState.fromJson(old).speed(),
        "an entry without per-model figures has the site's");
    old.remove("tps");
    old.remove("load_ms");
    assertEquals(SiteSpeed.Speeds.UNKNOWN, SiteState.fromJson(old).speed(), "a peer that does not measure is unknown");
  }
}
