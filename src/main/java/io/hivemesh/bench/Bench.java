package io.hivemesh.bench;

import java.io.PrintStream;
import java.util.List;

/** Entry point of {@code hive bench}: runs one scenario, or all three, and lists what it wrote. */
public final class Bench {

  public static final List<String> SCENARIOS = List.of("overhead", "placement", "scale");

  private Bench() {
  }

  public static void run(String scenario, BenchSettings settings, PrintStream out) {
    System.setProperty("java.awt.headless", "true");
    for (String name : scenario.equals("all") ? SCENARIOS : List.of(scenario)) {
      switch (name) {
        case "overhead" -> OverheadScenario.run(settings, out);
        case "placement" -> PlacementScenario.run(settings, out);
        case "scale" -> ScaleScenario.run(settings, out);
        default -> throw new IllegalArgumentException(name);
      }
      out.println(name + ": report in " + settings.out().resolve(name + ".md"));
    }
  }
}
