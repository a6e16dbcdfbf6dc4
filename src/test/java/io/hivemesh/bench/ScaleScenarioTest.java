package io.hivemesh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hivemesh.bench.ScaleScenario.Step;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScaleScenarioTest {

  @Test
  void throughputMustGrowUntilTheCoresAreBusy() {
    // Grows at every step.
    assertTrue(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(80, 0.3, 0), new Step(156, 0.5, 0),
        new Step(385, 0.8, 0))));
    // Falls after a size where the cores were busy serving: the cores are the limit.
    assertTrue(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(80, 0.3, 0), new Step(385, 0.95, 0.01),
        new Step(261, 1.0, 0.4))));
    // Falls while the cores still had room: the mesh, not the machine, is the limit.
    assertFalse(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(80, 0.3, 0), new Step(385, 0.6, 0),
        new Step(261, 1.0, 0))));
    // Falls after a size whose cores were busy compiling: the warm-up was too short, not the machine too small.
    assertFalse(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(385, 1.0, 0.3), new Step(261, 1.0, 0.4))));
    // Stays level with room left.
    assertFalse(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(80, 0.3, 0), new Step(80, 0.3, 0))));
    // Without /proc a fall cannot be blamed on the cores.
    assertFalse(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(385, Double.NaN, Double.NaN),
        new Step(261, Double.NaN, Double.NaN))));
    assertTrue(ScaleScenario.growsUntilCoresAreTheLimit(List.of(new Step(80, Double.NaN, Double.NaN))));
  }

  @Test
  void theMachinesBusyShareLeavesOutIdleAndIoWait() {
    ProcCpu.Machine before = ProcCpu.machine("cpu  100 0 50 1000 200 0 10 0 0 0");
    ProcCpu.Machine after = ProcCpu.machine("cpu  400 0 150 1100 300 0 50 0 7 0");
    // busy: user 300 + system 100 + softirq 40 = 440; total adds idle 100 and iowait 100 = 640.
    assertEquals(440.0 / 640, after.busyShareSince(before), 1e-9);
    assertTrue(Double.isNaN(after.busyShareSince(new ProcCpu.Machine(ProcCpu.UNKNOWN, ProcCpu.UNKNOWN))));
  }

  @Test
  void aThreadsTicksAreReadPastANameWithSpacesAndParentheses() {
    String stat = "4242 (C2 CompilerThre (x)) S 1 4242 4242 0 -1 4194368 100 0 0 0 731 42 0 0 20 0 1 0 555 0 0";
    assertEquals(773, ProcCpu.threadTicks(stat));
  }

  @Test
  void thisJvmsCompilerThreadsAreFound() {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc here");
    long ticks = ProcCpu.compilerTicks(List.of(ProcessHandle.current().pid()));
    assertTrue(ticks >= 0, "the JIT's threads were not read: " + ticks);
    assertEquals(ProcCpu.UNKNOWN, ProcCpu.compilerTicks(List.of(Long.MAX_VALUE)));
    assertTrue(ProcCpu.machine().total() > 0);
  }
}
