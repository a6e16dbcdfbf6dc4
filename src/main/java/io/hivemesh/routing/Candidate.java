package io.hivemesh.routing;

/**
 * A site that holds the requested model, as this node currently sees it.
 *
 * @param site          site (node) name
 * @param local         true when the site is this node's own Ollama (no bus hop)
 * @param loaded        the model is in the site's memory (no cold load needed)
 * @param modelInflight requests for this model running or waiting at the site
 * @param siteInflight  requests of any model running or waiting at the site
 * @param slots         requests the site serves at once per loaded model
 * @param evicts        loading the model here would push another loaded model out of memory
 * @param tokensPerSecond the site's measured output speed per request for this model (its overall speed for a
 *                      model it has not answered; 0: not measured yet)
 * @param loadMs        how long a cold load of this model takes there, as measured (else the site's own
 *                      loads'; 0: not measured yet)
 * @param onlyCopyShare when the load evicts: the share of the models it may push out that no other
 *                      site holds loaded (1: every one is the only copy, or the site does not say)
 */
public record Candidate(String site, boolean local, boolean loaded, int modelInflight, int siteInflight, int slots,
                        boolean evicts, double tokensPerSecond, long loadMs, double onlyCopyShare) {

  /** A candidate whose load, if it evicts, may evict a model's only loaded copy. */
  public Candidate(String site, boolean local, boolean loaded, int modelInflight, int siteInflight, int slots,
                   boolean evicts, double tokensPerSecond, long loadMs) {
    this(site, local, loaded, modelInflight, siteInflight, slots, evicts, tokensPerSecond, loadMs, evicts ? 1.0 : 0.0);
  }

  /** A candidate whose load, if it needs one, evicts nothing (or the site does not say). */
  public Candidate(String site, boolean local, boolean loaded, int modelInflight, int siteInflight, int slots) {
    this(site, local, loaded, modelInflight, siteInflight, slots, false);
  }

  /** A candidate whose speed is not known. */
  public Candidate(String site, boolean local, boolean loaded, int modelInflight, int siteInflight, int slots,
                   boolean evicts) {
    this(site, local, loaded, modelInflight, siteInflight, slots, evicts, 0, 0);
  }

  /** Requests per slot, the unit every strategy compares. */
  public double siteLoad() {
    return (double) siteInflight / slots;
  }

  public boolean hasFreeSlot() {
    return loaded && modelInflight < slots;
  }
}
