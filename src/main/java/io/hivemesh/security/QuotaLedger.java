package io.hivemesh.security;

import io.vertx.core.Future;

/**
 * The mesh-wide record of every subject's quota: the one place nodes agree on, so that a client
 * spreading its requests over many nodes still gets one quota. Every call is a cluster round trip;
 * {@link SubjectQuotas} batches them so that most requests need none.
 */
public interface QuotaLedger {

  /**
   * Takes up to {@code wanted} tokens from the subject's bucket (capacity {@code rpm}, refilled
   * at {@code rpm} a minute).
   *
   * @return the tokens granted if any, else minus the milliseconds until the next one is due
   */
  Future<Long> takeTokens(String subject, int wanted, int rpm);

  /**
   * Sets how many of the subject's {@code limit} concurrent slots this node holds, granting at
   * most what other nodes leave free. Holds not renewed for a few seconds lapse (a crashed node's
   * slots come back on their own).
   *
   * @return the slots this node now holds
   */
  Future<Integer> holdSlots(String subject, int wanted, int limit);
}
