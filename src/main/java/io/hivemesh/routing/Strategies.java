package io.hivemesh.routing;

import java.util.List;

/** The strategies a node can run, by the name given to {@code --strategy}. */
public final class Strategies {

  public static final String DEFAULT = LoadedFirstStrategy.NAME;

  public static final List<String> NAMES =
      List.of(LoadedFirstStrategy.NAME, LeastLoadedStrategy.NAME, RoundRobinStrategy.NAME);

  private Strategies() {
  }

  public static RoutingStrategy create(String name) {
    return switch (name) {
      case RoundRobinStrategy.NAME -> new RoundRobinStrategy();
      case LeastLoadedStrategy.NAME -> new LeastLoadedStrategy();
      case LoadedFirstStrategy.NAME -> new LoadedFirstStrategy();
      default -> throw new IllegalArgumentException("unknown strategy " + name);
    };
  }
}
