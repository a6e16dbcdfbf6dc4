package io.hivemesh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hivemesh.support.proc.HiveJvm;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each benchmark scenario, end to end at the smallest scale, from the jar as a user runs it: it must
 * finish, and write its JSON, Markdown and charts with every contender in them. Speed is not
 * checked; the full runs are the commands in docs/benchmarks.md.
 */
class BenchSmokeIT {

  private static final Path OUT = Path.of("target", "it-logs", "BenchSmokeIT");

  /** The peers come from Debian's packages: skipped without them, except under CI=true, where .ci/run installs them. */
  @BeforeAll
  static void peersInstalled() {
    for (String peer : List.of("/usr/sbin/nginx", "/usr/sbin/haproxy")) {
      if (!Files.isExecutable(Path.of(peer))) {
        if ("true".equals(System.getenv("CI"))) {
          fail("CI=true and the benchmark smoke test cannot run: " + peer + " is missing");
        }
        Assumptions.abort("benchmark smoke test skipped: " + peer + " is missing (apt-get install nginx-light haproxy)");
      }
    }
  }

  @Test
  void overheadComparesEveryContenderInBothModes() throws Exception {
    JsonObject report = bench("overhead", "--rate", "100", "--concurrency", "4");
    for (String mode : List.of("non-streaming", "streaming")) {
      JsonObject results = report.getJsonObject("modes").getJsonObject(mode);
      for (String contender : OverheadScenario.CONTENDERS) {
        JsonObject r = results.getJsonObject(contender);
        assertTrue(r.getJsonObject("saturation").getLong("ok") > 0, mode + " " + contender + " served nothing: " + r);
        assertTrue(r.getJsonObject("moderate").getLong("ok") > 0, mode + " " + contender + " served nothing: " + r);
      }
      assertTrue(results.getJsonObject("bars").containsKey("localAddedP50Ms"), results.encode());
      assertEquals(report.getJsonObject("settings").getInteger("rounds"),
          results.getJsonObject("bars").getJsonArray("localToNginxByRound").size(), results.encode());
    }
    assertCharts("overhead", "throughput", "added-latency");
  }

  @Test
  void placementRunsEveryContenderAndTheIdealSchedulerOnOneTrace() throws Exception {
    // Four times faster sites over a quarter of the time: the same requests as 2 s at normal speed.
    JsonObject report = bench("placement", "--loads", "50", "--phase", "500ms", "--speedup", "4");
    JsonObject level = report.getJsonObject("levels").getJsonObject("50%");
    for (String contender : PlacementScenario.CONTENDERS) {
      JsonObject r = level.getJsonObject(contender);
      assertTrue(r.getLong("ok") + r.getLong("failed") > 0, contender + " sent nothing: " + r);
    }
    // The mesh only ever routes to a site that holds the model.
    assertTrue(level.getJsonObject("mesh-default").getLong("ok") > 0, level.encode());
    assertTrue(level.getJsonObject("ideal (simulated)").getLong("ok") > 0, level.encode());
    assertTrue(level.getJsonObject("bars").containsKey("defaultToIdealP99"), level.encode());
    assertTrue(level.getJsonObject("bars").containsKey("defaultFailed"), level.encode());
    assertCharts("placement", "p99-total", "p99-ttft");
  }

  @Test
  void scaleMeasuresThroughputAndMemoryPerMeshSize() throws Exception {
    // At most one 3 s window past the warm-up while the JIT is busy: the smoke checks the mechanism, not the result.
    JsonObject report = bench("scale", "--nodes", "1,2", "--settle", "3s");
    var sizes = report.getJsonArray("sizes");
    // The sizes asked for, then one node with the JVM's default flags.
    assertEquals(3, sizes.size(), sizes.encode());
    for (int i = 0; i < sizes.size(); i++) {
      JsonObject size = sizes.getJsonObject(i);
      assertTrue(size.getJsonObject("saturation").getLong("ok") > 0, size.encode());
      assertTrue(size.getJsonObject("idleRssMiB").getDouble("mean") > 0, size.encode());
      long warmup = size.getLong("warmupMs");
      assertTrue(warmup >= 1000 && warmup <= 4000, size.encode());
      assertTrue(size.getDouble("cpuBusyAtSaturation") > 0, size.encode());
      assertTrue(size.containsKey("jitShareAtSaturation") && size.containsKey("jitSettled"), size.encode());
    }
    assertTrue(report.getJsonObject("bars").containsKey("throughputGrowsUntilCoresAreTheLimit"), report.encode());
    assertCharts("scale", "throughput", "rss");
  }

  /** Runs {@code hive bench SCENARIO} at the smallest scale; returns its JSON report. */
  private static JsonObject bench(String scenario, String... extra) throws IOException, InterruptedException {
    Path out = OUT.resolve(scenario).toAbsolutePath();
    List<String> args = new ArrayList<>(List.of(scenario, "--out", out.toString(), "--rounds", "1",
        "--phase", "1s", "--warmup", "1s"));
    args.addAll(List.of(extra));
    List<String> cmd = HiveJvm.command(List.of(), "bench", args);
    Files.createDirectories(out);
    Path log = out.resolve("bench.log");
    ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("HIVE_"));
    Process p = builder.start();
    boolean ended = p.waitFor(10, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly();
    }
    String output = Files.readString(log);
    assertTrue(ended, scenario + " still running after 10 minutes:\n" + output);
    assertEquals(0, p.exitValue(), output);
    for (String ext : List.of("json", "md")) {
      assertTrue(Files.size(out.resolve(scenario + "." + ext)) > 0, scenario + "." + ext + " is empty");
    }
    String md = Files.readString(out.resolve(scenario + ".md"));
    assertTrue(md.contains("| contender |") || md.contains("| nodes |"), md);
    return new JsonObject(Files.readString(out.resolve(scenario + ".json")));
  }

  private static void assertCharts(String scenario, String... charts) throws IOException {
    Path out = OUT.resolve(scenario).toAbsolutePath();
    for (String chart : charts) {
      byte[] png = Files.readAllBytes(out.resolve(scenario + "-" + chart + ".png"));
      assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', chart + " is not a PNG");
    }
  }
}
