package io.hivemesh.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** One routing decision per request: ordering the sites that hold the model. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StrategyBench {

  @Param({"loaded-first", "least-loaded", "round-robin"})
  public String strategy;

  @Param({"3", "10"})
  public int sites;

  private RoutingStrategy routing;
  private List<Candidate> candidates;

  @Setup
  public void setUp() {
    routing = Strategies.create(strategy);
    candidates = new ArrayList<>();
    for (int i = 0; i < sites; i++) {
      candidates.add(new Candidate("site" + i, i == 0, i % 3 != 2, i % 4, 2 * i, 1 + i % 4));
    }
  }

  @Benchmark
  public List<Candidate> order() {
    // The dispatcher hands each call a fresh list, which the strategy may reorder in place.
    return routing.order(new ArrayList<>(candidates));
  }
}
