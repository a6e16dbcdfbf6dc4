package io.hivemesh.sim;

import io.vertx.core.Vertx;

/** What the handlers of one sim share. Everything but the stats is used on the sim's event loop. */
record SimCore(Vertx vertx, SimOptions options, SimStats stats, SimScheduler scheduler, SimCatalog catalog,
    TextGenerator text) {
}
