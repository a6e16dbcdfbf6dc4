package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.model.ModelName;
import io.hivemesh.routing.Candidate;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MeshViewTest {

  private final LocalLoad localLoad = new LocalLoad(10);
  private final MeshView view = new MeshView("self", localLoad);

  private static String k(String name) {
    return ModelName.key(name);
  }

  private static JsonObject tag(String name) {
    return new JsonObject().put("name", name).put("model", name).put("modified_at", "2025-01-02T03:04:05Z").put("size", 1);
  }

  private static SiteInventory inventory(String site, String version, List<String> models, List<String> loaded) {
    return new SiteInventory(site, version, models.stream().map(MeshViewTest::tag).toList(),
        loaded.stream().map(m -> tag(m).put("expires_at", "2030-01-01T00:00:00Z")).toList());
  }

  private static SiteState state(String site, boolean healthy, int inflight, Map<String, Integer> perModel, Set<String> loaded) {
    return new SiteState(site, "node-" + site, 2, healthy, false, 2, 8, 8, inflight, perModel, loaded, 0);
  }

  @Test
  void candidatesAreTheLiveHealthySitesHoldingTheModel() {
    view.putInventory(inventory("a", "0.12.0", List.of("llama3.2:latest", "phi3:latest"), List.of("llama3.2:latest")));
    view.putInventory(inventory("b", "0.11.4", List.of("llama3.2:latest"), List.of()));
    view.putInventory(inventory("c", "0.12.0", List.of("llama3.2:latest"), List.of()));
    view.putState(state("a", true, 1, Map.of(k("llama3.2"), 1), Set.of(k("llama3.2"))));
    view.putState(state("b", true, 0, Map.of(), Set.of()));
    view.putState(state("c", false, 0, Map.of(), Set.of()));

    List<Candidate> c = view.candidates(k("llama3.2")).sites();
    assertEquals(Set.of("a", "b"), Set.copyOf(c.stream().map(Candidate::site).toList()));
    Candidate a = c.stream().filter(x -> x.site().equals("a")).findFirst().orElseThrow();
    assertTrue(a.loaded());
    assertEquals(1, a.modelInflight());
    assertEquals(List.of("a"), view.candidates(k("phi3")).sites().stream().map(Candidate::site).toList());
    assertTrue(view.candidates(k("mistral")).sites().isEmpty());
  }

  @Test
  void aCandidateCarriesTheSpeedItsSiteMeasuredForThatModel() {
    view.putInventory(inventory("gpu", "0.12.0", List.of("small:latest", "large:latest", "new:latest"), List.of()));
    SiteSpeed.Speeds speeds = new SiteSpeed.Speeds(new SiteSpeed.Measured(120, 2000),
        Map.of(k("small"), new SiteSpeed.Measured(400, 500), k("large"), new SiteSpeed.Measured(25, 6000)));
    view.putState(new SiteState("gpu", "node-gpu", 2, true, false, 2, 8, 8, 0, Map.of(), Set.of(), 0,
        0, 0, null, null, 0, speeds));
    Candidate small = view.candidates(k("small")).sites().get(0);
    Candidate large = view.candidates(k("large")).sites().get(0);
    Candidate unmeasured = view.candidates(k("new")).sites().get(0);
    assertEquals(List.of(400.0, 25.0, 120.0), List.of(small.tokensPerSecond(), large.tokensPerSecond(),
        unmeasured.tokensPerSecond()));
    assertEquals(List.of(500L, 6000L, 2000L), List.of(small.loadMs(), large.loadMs(), unmeasured.loadMs()));
  }

  @Test
  void aColdCandidateOnASiteHoldingItsMaximumOfLoadedModelsEvicts() {
    view.putInventory(inventory("full", "0.12.0", List.of("a:latest", "b:latest", "m:latest"), List.of()));
    view.putInventory(inventory("roomy", "0.12.0", List.of("a:latest", "m:latest"), List.of()));
    view.putState(new SiteState("full", "node-full", 2, true, false, 2, 8, 8, 0, Map.of(), Set.of(k("a"), k("b")), 0,
        0, 0, null, null, 2));
    view.putState(new SiteState("roomy", "node-roomy", 2, true, false, 2, 8, 8, 0, Map.of(), Set.of(k("a")), 0,
        0, 0, null, null, 2));
    Map<String, Boolean> evicts = new java.util.TreeMap<>();
    view.candidates(k("m")).sites().forEach(c -> evicts.put(c.site(), c.evicts()));
    assertEquals(Map.of("full", true, "roomy", false), evicts);
    // A loaded model evicts nothing.
    assertFalse(view.candidates(k("a")).sites().stream().anyMatch(Candidate::evicts));
  }

  @Test
  void aLoadThatEvictsMakesABusyModelColdThereWhenAnotherSiteHoldsItLoaded() {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    MeshView view = new MeshView("self", localLoad, now::get);
    view.putInventory(inventory("gpu", "0.12.0", List.of("embed:latest", "only:latest", "new:latest"), List.of()));
    view.putInventory(inventory("other", "0.12.0", List.of("embed:latest"), List.of()));
    view.putState(new SiteState("other", "node-other", 2, true, false, 2, 8, 8, 0, Map.of(), Set.of(k("embed")), 0,
        0, 0, null, null, 2));
    // Both of gpu's models are in use as far as this node knows; the embedding model is loaded at "other" too.
    view.putState(new SiteState("gpu", "node-gpu", 2, true, false, 2, 8, 8, 2, Map.of(k("embed"), 1, k("only"), 1),
        Set.of(k("embed"), k("only")), 0, 0, 0, null, null, 2));
    java.util.function.BiFunction<String, String, Candidate> at = (m, site) -> view.candidates(k(m)).sites().stream()
        .filter(c -> c.site().equals(site)).findFirst().orElseThrow();
    assertTrue(at.apply("embed", "gpu").loaded());

    view.noteColdLoad("gpu", k("new"));
    // An embedding takes milliseconds: it may be idle when the load arrives, and the other site has it.
    assertFalse(at.apply("embed", "gpu").loaded());
    assertTrue(at.apply("embed", "other").loaded());
    // The only loaded copy of a model in use stays where it is.
    assertTrue(at.apply("only", "gpu").loaded());
  }

  @Test
  void anEvictingCandidateSaysHowManyOfItsPossibleVictimsAreOnlyCopies() {
    view.putInventory(inventory("full", "0.12.0", List.of("shared:latest", "only:latest", "busy:latest", "m:latest"), List.of()));
    view.putInventory(inventory("other", "0.12.0", List.of("shared:latest"), List.of()));
    view.putState(new SiteState("other", "node-other", 2, true, false, 2, 8, 8, 0, Map.of(), Set.of(k("shared")), 0,
        0, 0, null, null, 3));
    java.util.function.Function<Map<String, Integer>, Double> share = inflight -> {
      view.putState(new SiteState("full", "node-full", 2, true, false, 2, 8, 8, 0, inflight,
          Set.of(k("shared"), k("only"), k("busy")), 0, 0, 0, null, null, 3));
      return view.candidates(k("m")).sites().get(0).onlyCopyShare();
    };
    // Idle there: "shared" (loaded at "other" too) and "only"; Ollama may evict either.
    assertEquals(0.5, share.apply(Map.of(k("busy"), 1)), 1e-9);
    // With "only" busy, the idle one Ollama would evict is held elsewhere.
    assertEquals(0.0, share.apply(Map.of(k("busy"), 1, k("only"), 1)), 1e-9);
    // None idle: whichever goes idle first goes; two of the three are only copies.
    assertEquals(2.0 / 3, share.apply(Map.of(k("busy"), 1, k("only"), 1, k("shared"), 1)), 1e-9);
    // A loaded model's candidate evicts nothing.
    assertEquals(0.0, view.candidates(k("shared")).sites().stream().mapToDouble(Candidate::onlyCopyShare).max().orElseThrow());
  }

  @Test
  void aLoadThatEvictsMakesTheSitesIdleModelsColdUntilTheSiteSaysWhatItHolds() {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    MeshView view = new MeshView("self", localLoad, now::get);
    view.putInventory(inventory("gpu", "0.12.0", List.of("busy:latest", "idle:latest", "new:latest"), List.of()));
    java.util.function.Function<Set<String>, SiteState> gpu = loaded -> new SiteState("gpu", "node-gpu", 2, true, false,
        2, 8, 8, 1, Map.of(k("busy"), 1), loaded, 0, 0, 0, null, null, 2);
    view.putState(gpu.apply(Set.of(k("busy"), k("idle"))));
    java.util.function.Function<String, Candidate> at = m -> view.candidates(k(m)).sites().get(0);
    assertTrue(at.apply("idle").loaded());
    Candidate cold = at.apply("new");
    assertTrue(!cold.loaded() && cold.evicts());

    view.noteColdLoad("gpu", k("new"));
    assertFalse(at.apply("idle").loaded(), "the idle model is the one Ollama unloads");
    assertTrue(at.apply("idle").evicts(), "and loading it back would evict in turn");
    assertTrue(at.apply("busy").loaded(), "a model in use is not unloaded");
    // A snapshot with the same loaded models (published before the site polled its Ollama) changes nothing.
    view.putState(gpu.apply(Set.of(k("busy"), k("idle"))));
    assertFalse(at.apply("idle").loaded());
    // The site's next poll says what it holds now: that is the truth again.
    view.putState(gpu.apply(Set.of(k("busy"), k("new"))));
    assertTrue(at.apply("new").loaded());

    view.putState(gpu.apply(Set.of(k("busy"), k("idle"))));
    view.noteColdLoad("gpu", k("new"));
    assertFalse(at.apply("idle").loaded());
    now.addAndGet(MeshView.EVICTION_GUESS_NANOS + 1);
    assertTrue(at.apply("idle").loaded(), "a guess the site never confirms lapses");
  }

  @Test
  void aSiteWithoutLoadEntryOrInventoryIsNotACandidate() {
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    assertTrue(view.candidates(k("m")).sites().isEmpty());
    view.putState(state("a", true, 0, Map.of(), Set.of()));
    assertEquals(1, view.candidates(k("m")).sites().size());
    view.removeState("a");
    assertTrue(view.candidates(k("m")).sites().isEmpty());
  }

  @Test
  void ownDispatchesCountUntilTheSiteRepublishes() {
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("a", true, 2, Map.of(k("m"), 2), Set.of()));
    view.noteDispatched("a", k("m"));
    view.noteDispatched("a", k("m"));
    Candidate a = view.candidates(k("m")).sites().get(0);
    assertEquals(4, a.modelInflight());
    assertEquals(4, a.siteInflight());
    view.putState(state("a", true, 3, Map.of(k("m"), 3), Set.of()));
    assertEquals(3, view.candidates(k("m")).sites().get(0).modelInflight());
  }

  @Test
  void ownDispatchesStopCountingWhenTheyEndEvenBeforeTheSiteRepublishes() {
    // Thousands of short requests a second between two snapshots must not add up to a full site.
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("a", true, 0, Map.of(), Set.of()));
    for (int i = 0; i < 1000; i++) {
      view.noteDispatched("a", k("m")).run();
    }
    Runnable open = view.noteDispatched("a", k("m"));
    Candidate a = view.candidates(k("m")).sites().get(0);
    assertEquals(1, a.modelInflight());
    assertEquals(1, a.siteInflight());
    assertEquals(0, view.candidates(k("m")).saturated());
    // A request still open when a snapshot replaced its count ends without touching the new one.
    view.putState(state("a", true, 1, Map.of(k("m"), 1), Set.of()));
    Runnable next = view.noteDispatched("a", k("m"));
    open.run();
    assertEquals(2, view.candidates(k("m")).sites().get(0).modelInflight());
    next.run();
    assertEquals(1, view.candidates(k("m")).sites().get(0).modelInflight());
  }

  @Test
  void aSiteFullForOneModelIsStillOfferedForTheOthers() {
    view.putInventory(inventory("a", "0.12.0", List.of("hot:latest", "cold:latest"), List.of()));
    // 8 places, at most 3 per model: 3 'hot' requests fill 'hot' only.
    view.putState(new SiteState("a", "node-a", 2, true, false, 2, 8, 3, 3, Map.of(k("hot"), 3), Set.of(), 0));
    MeshView.Candidates hot = view.candidates(k("hot"));
    assertTrue(hot.sites().isEmpty());
    assertEquals(1, hot.saturated());
    assertEquals(List.of("a"), view.candidates(k("cold")).sites().stream().map(Candidate::site).toList());
    // Requests this node sent count too, until the site republishes.
    view.putState(new SiteState("a", "node-a", 2, true, false, 2, 8, 3, 2, Map.of(k("hot"), 2), Set.of(), 0));
    assertEquals(1, view.candidates(k("hot")).sites().size());
    view.noteDispatched("a", k("hot"));
    assertTrue(view.candidates(k("hot")).sites().isEmpty());
  }

  @Test
  void theLocalCountsKeepAModelEntryOnlyWhileItHasRequests() {
    LocalLoad load = new LocalLoad(4, 2, () -> { });
    assertTrue(load.tryAcquire("a"));
    assertTrue(load.tryAcquire("a"));
    assertFalse(load.tryAcquire("a"), "a third 'a' past the per-model bound");
    assertTrue(load.tryAcquire("b"));
    assertTrue(load.tryAcquire("c"));
    assertFalse(load.tryAcquire("d"), "past the site's bound");
    assertEquals(4, load.total());
    assertEquals(3, load.modelsInFlight());
    load.release("a");
    load.release("a");
    load.release("b");
    load.release("c");
    assertEquals(0, load.total());
    assertEquals(0, load.modelsInFlight());
    assertEquals(Map.of(), load.snapshot());
  }

  @Test
  void fullSitesAreCountedAsSaturatedNotOffered() {
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("a", true, 8, Map.of(k("m"), 8), Set.of()));
    MeshView.Candidates c = view.candidates(k("m"));
    assertTrue(c.sites().isEmpty());
    assertEquals(1, c.saturated());
  }

  @Test
  void theOwnSiteUsesExactLiveCounts() {
    view.putInventory(inventory("self", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("self", true, 5, Map.of(k("m"), 5), Set.of()));
    assertTrue(localLoad.tryAcquire(k("m")));
    Candidate self = view.candidates(k("m")).sites().get(0);
    assertTrue(self.local());
    assertEquals(1, self.modelInflight());
    // An expiry seen for the own entry never hides this node from itself.
    view.removeState("self");
    assertEquals(1, view.candidates(k("m")).sites().size());
  }

  @Test
  void aMemberLeavingTakesItsSitesAlong() {
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("a", true, 0, Map.of(), Set.of()));
    assertEquals(List.of("a"), view.removeNode("node-a"));
    assertTrue(view.candidates(k("m")).sites().isEmpty());
    assertFalse(view.nodesJson().encode().contains("\"a\""));
  }

  @Test
  void aMemberLeavingAfterItsEntryExpiredStillNamesItsSites() {
    view.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    view.putState(state("a", true, 0, Map.of(), Set.of()));
    // Silent first (a partition, a frozen process): the entry expires before the cluster removes the member.
    view.removeState("a");
    view.removeInventory("a");
    assertEquals(List.of("a"), view.removeNode("node-a"), "streams to 'a' must still be ended");
    assertEquals(List.of(), view.removeNode("node-a"), "and only once");
  }

  @Test
  void catalogIsTheUnionOneEntryPerModel() {
    view.putInventory(inventory("a", "0.12.0", List.of("llama3.2:latest", "phi3:latest"), List.of("llama3.2:latest")));
    view.putInventory(inventory("b", "0.11.4", List.of("llama3.2:latest", "mistral:latest"), List.of("llama3.2:latest")));
    view.putState(state("a", true, 0, Map.of(), Set.of()));
    view.putState(state("b", true, 0, Map.of(), Set.of()));
    MeshView.Catalog cat = view.catalog();
    JsonObject tags = cat.tags().toJsonObject();
    assertEquals(List.of("llama3.2:latest", "mistral:latest", "phi3:latest"),
        tags.getJsonArray("models").stream().map(o -> ((JsonObject) o).getString("name")).toList());
    assertEquals(1, cat.ps().toJsonObject().getJsonArray("models").size());
    assertEquals("0.11.4", cat.version());
    JsonObject models = cat.openAiModels().toJsonObject();
    assertEquals("list", models.getString("object"));
    assertEquals(3, models.getJsonArray("data").size());
    assertEquals("library", models.getJsonArray("data").getJsonObject(0).getString("owned_by"));
  }

  @Test
  void emptyMeshListsNothingButNeverNull() {
    assertEquals("{\"models\":[]}", view.catalog().tags().toString());
    assertEquals("{\"models\":[]}", view.catalog().ps().toString());
  }

  @Test
  void aSiteThatStopsRefreshingExpiresByThisNodesClockOnly() {
    long[] now = {0};
    MeshView timed = new MeshView("self", localLoad, () -> now[0]);
    timed.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    timed.putState(state("a", true, 0, Map.of(), Set.of()));
    now[0] = 900_000_000L;
    timed.expireStale(1000, node -> true);
    assertEquals(1, timed.candidates(k("m")).sites().size());
    timed.putState(state("a", true, 0, Map.of(), Set.of()));
    now[0] = 1_800_000_000L;
    timed.expireStale(1000, node -> true);
    assertEquals(1, timed.candidates(k("m")).sites().size(), "refreshed at 0.9 s, fresh until 1.9 s");
    now[0] = 2_000_000_000L;
    timed.expireStale(1000, node -> true);
    assertTrue(timed.candidates(k("m")).sites().isEmpty());
    assertNull(timed.state("a"));
  }

  @Test
  void aSiteWhoseMemberIsStillHeardFromGetsLongerForItsRefreshes() {
    long[] now = {0};
    MeshView timed = new MeshView("self", localLoad, () -> now[0]);
    timed.putInventory(inventory("a", "0.12.0", List.of("m:latest"), List.of()));
    timed.putState(state("a", true, 0, Map.of(), Set.of()));
    timed.putInventory(inventory("b", "0.12.0", List.of("m:latest"), List.of()));
    timed.putState(state("b", true, 0, Map.of(), Set.of()));
    // Neither refreshed for 2 TTLs: a's member still heartbeats (its writes are held up), b's went silent.
    now[0] = 2_000_000_000L;
    timed.expireStale(1000, node -> !node.equals("node-a"));
    assertEquals(List.of("a"), timed.candidates(k("m")).sites().stream().map(Candidate::site).toList());
    now[0] = 1_000_000_000L * MeshView.STALLED_REFRESH_TTLS + 1;
    timed.expireStale(1000, node -> !node.equals("node-a"));
    assertTrue(timed.candidates(k("m")).sites().isEmpty(), "a heartbeat alone does not keep a site for good");
  }
}
