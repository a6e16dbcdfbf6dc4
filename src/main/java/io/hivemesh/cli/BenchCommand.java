package io.hivemesh.cli;

import io.hivemesh.bench.Bench;
import io.hivemesh.bench.BenchSettings;
import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code hive bench SCENARIO}: the benchmarks of docs/benchmarks.md. */
final class BenchCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("out", "bench-results", "directory the reports (JSON, Markdown, PNG) are written to"),
      OptionSpec.of("rounds", "3", "measured rounds; every contender takes one turn per round"),
      OptionSpec.of("phase", "5s", "length of one contender's turn"),
      OptionSpec.of("warmup", "30s", "warm-up per contender before the first round (the nodes' JIT needs tens of seconds)"),
      OptionSpec.of("settle", "5m", "scale: how much longer the warm-up may run while the nodes' JIT compilers are still"
          + " busy (ten node JVMs on two cores compile for minutes)"),
      OptionSpec.of("rate", "1000", "overhead: open-loop requests per second of the moderate load"),
      OptionSpec.of("concurrency", "32", "overhead and scale: requests kept open at saturation"),
      OptionSpec.of("loads", "50,80,95", "placement: offered loads, percent of the mesh's capacity"),
      OptionSpec.of("nodes", "1,2,5,10", "scale: mesh sizes"),
      OptionSpec.of("speedup", "1", "placement: run the sites this many times faster (tokens, loads, and so arrivals),"
          + " for a quick check; the report's times shrink as much"));

  private static final String USAGE_HEAD = "usage: hive bench overhead|placement|scale|all [options]\n";

  private BenchCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (args.length == 0 || Settings.wantsHelp(args)) {
      if (args.length == 0) {
        throw new ConfigException("bench: name a scenario: overhead, placement, scale or all");
      }
      out.print(USAGE_HEAD + Settings.usage("bench", OPTIONS));
      return;
    }
    String scenario = args[0];
    if (!scenario.equals("all") && !Bench.SCENARIOS.contains(scenario)) {
      throw new ConfigException("bench: unknown scenario '" + scenario + "' (overhead, placement, scale, all)");
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    Settings s = Settings.resolve(OPTIONS, rest, System.getenv());
    BenchSettings settings = new BenchSettings(s.path("out"), "hive bench " + String.join(" ", args),
        s.integer("rounds", 1, 1000), s.duration("phase").toMillis(), s.duration("warmup").toMillis(),
        s.duration("settle").toMillis(), s.decimal("rate", 1), s.integer("concurrency", 1, 100_000), integers(s, "loads", 1, 200),
        integers(s, "nodes", 1, 64), s.integer("speedup", 1, 100));
    Bench.run(scenario, settings, out);
  }

  private static List<Integer> integers(Settings s, String name, int min, int max) {
    return s.list(name).stream().map(v -> {
      try {
        int n = Integer.parseInt(v.trim());
        if (n < min || n > max) {
          throw new NumberFormatException();
        }
        return n;
      } catch (NumberFormatException e) {
        throw new ConfigException("--" + name + ": '" + v + "' is not a whole number from " + min + " to " + max);
      }
    }).toList();
  }
}
