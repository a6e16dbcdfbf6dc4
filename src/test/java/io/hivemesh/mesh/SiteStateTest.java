package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
    assertEquals("hive.site.lab.1", node.inbox(1));
  }

  @Test
  void anEdgesEntryNamesItsNodeAndAnAddressOfItsAttachment() {
    SiteState edge = new SiteState("laptop", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0, 0, 0, "a", "att-1");
    assertEquals(edge, SiteState.fromJson(edge.toJson()));
    assertEquals("hive.edge.laptop.att-1.0", edge.inbox(0));
    SiteState again = new SiteState("laptop", "n1", 1, true, false, 1, 8, 8, 0, Map.of(), Set.of(), 0, 0, 0, "a", "att-2");
    assertNotEquals(edge.inbox(0), again.inbox(0), "a new attachment never reuses the old one's inbox");
  }
}
