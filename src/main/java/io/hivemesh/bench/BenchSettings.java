package io.hivemesh.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of one {@code hive bench} run.
 *
 * @param out directory the reports are written to
 * @param command the command line, printed in the reports
 * @param rounds measured rounds; each contender runs once per round
 * @param phaseMs length of one contender's turn (each of saturation and moderate load)
 * @param warmupMs warm-up per contender before the first round
 * @param settleMs scale: how much longer the warm-up may run while the nodes' JIT compilers are still busy
 * @param rate open-loop rate of the overhead scenario's moderate load, requests per second
 * @param concurrency requests kept open at saturation
 * @param loads placement: offered loads in percent of the mesh's capacity
 * @param nodes scale: mesh sizes
 * @param speedup placement: how many times faster the sites run than the scenario describes
 */
public record BenchSettings(Path out, String command, int rounds, long phaseMs, long warmupMs, long settleMs, double rate,
    int concurrency, List<Integer> loads, List<Integer> nodes, int speedup) {

  JsonObject toJson() {
    return new JsonObject().put("rounds", rounds).put("phaseMs", phaseMs).put("warmupMs", warmupMs).put("settleMs", settleMs)
        .put("rate", rate).put("concurrency", concurrency).put("loads", new JsonArray(loads))
        .put("nodes", new JsonArray(nodes)).put("speedup", speedup);
  }
}
