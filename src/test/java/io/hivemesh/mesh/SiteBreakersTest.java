package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SiteBreakersTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final SiteBreakers breakers = new SiteBreakers(now::get);

  private void fail(int times) {
    for (int i = 0; i < times; i++) {
      breakers.failed("s");
    }
  }

  @Test
  void opensAfterFailuresInARowAndASuccessInBetweenResetsTheCount() {
    fail(2);
    breakers.succeeded("s");
    fail(2);
    assertTrue(breakers.allows("s"));
    fail(1);
    assertFalse(breakers.allows("s"));
    assertEquals(SiteBreakers.State.OPEN, breakers.state("s"));
    assertTrue(breakers.allows("other"), "one site's breaker is its own");
  }

  @Test
  void halfOpensForOneTrialThatClosesOrReopensForTwiceAsLong() {
    fail(3);
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    assertEquals(SiteBreakers.State.HALF_OPEN, breakers.state("s"));
    assertTrue(breakers.allows("s"), "one trial");
    assertFalse(breakers.allows("s"), "only one at a time");
    breakers.failed("s");
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    assertFalse(breakers.allows("s"), "a failed trial doubles the wait");
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    assertTrue(breakers.allows("s"));
    breakers.succeeded("s");
    assertEquals(SiteBreakers.State.CLOSED, breakers.state("s"));
    assertTrue(breakers.allows("s") && breakers.allows("s"));
  }

  @Test
  void aTrialThatNeverReportsDoesNotWedgeTheBreaker() {
    fail(3);
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    assertTrue(breakers.allows("s"));
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    assertTrue(breakers.allows("s"), "the lost trial lapsed; another may try");
  }

  @Test
  void lookingAtAHalfOpenSiteDoesNotTakeItsTrial() {
    fail(3);
    assertFalse(breakers.admits("s"), "open");
    now.addAndGet(SiteBreakers.FIRST_OPEN_MS);
    for (int i = 0; i < 5; i++) {
      assertTrue(breakers.admits("s"), "routing may rank it as often as it likes");
    }
    assertTrue(breakers.allows("s"), "the trial is still there for the request that goes to it");
    assertFalse(breakers.admits("s"), "and once taken, the site is out of routing until it reports");
    breakers.succeeded("s");
    assertTrue(breakers.admits("s"));
  }
}
