/**
 * An Ollama emulator for tests, demos and benchmarks: {@link io.hivemesh.sim.OllamaSim} started with
 * {@link io.hivemesh.sim.SimOptions}, observed through {@link io.hivemesh.sim.SimStats}.
 *
 * <p>It follows the Ollama server (routes, JSON shapes and field order, content types, Go's JSON
 * error texts, the scheduler's slots, pending queue, eviction and keep-alive) rather than the
 * documentation where they differ. What it does not emulate: thinking output, tool calls, structured
 * output ({@code format}), images, and failing loads; generated text is deterministic filler.
 */
package io.hivemesh.sim;
