package io.hivemesh.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time from Linux's {@code /proc}, in clock ticks: what the scale scenario reads to tell whether
 * the machine's cores were the limit and whether the nodes' JIT compilers were still at work. Where
 * {@code /proc} cannot be read every figure is {@link #UNKNOWN} and the report says so.
 */
final class ProcCpu {

  static final long UNKNOWN = -1;

  private ProcCpu() {
  }

  /** The machine's ticks since boot, all cores: busy (everything but idle and I/O wait) and total. */
  record Machine(long busy, long total) {

    /** The share of the cores that was busy between {@code earlier} and this reading; NaN if unknown. */
    double busyShareSince(Machine earlier) {
      long total = this.total - earlier.total;
      return this.total < 0 || earlier.total < 0 || total <= 0 ? Double.NaN : (double) (busy - earlier.busy) / total;
    }
  }

  static Machine machine() {
    try {
      return machine(Files.readAllLines(Path.of("/proc/stat")).get(0));
    } catch (IOException | RuntimeException e) {
      return new Machine(UNKNOWN, UNKNOWN);
    }
  }

  /** Parses the first line of {@code /proc/stat}: {@code cpu user nice system idle iowait irq softirq steal ...}. */
  static Machine machine(String cpuLine) {
    String[] f = cpuLine.trim().split("\\s+");
    long busy = 0;
    long total = 0;
    // Guest time (fields 9 and 10) is already counted in user and nice.
    for (int i = 1; i < Math.min(f.length, 9); i++) {
      long v = Long.parseLong(f[i]);
      total += v;
      if (i != 4 && i != 5) {
        busy += v;
      }
    }
    return new Machine(busy, total);
  }

  /**
   * Ticks the JIT compiler threads ({@code C1 CompilerThre…}, {@code C2 CompilerThre…}) of the
   * processes {@code pids} have used, summed; {@link #UNKNOWN} if a process cannot be read.
   */
  static long compilerTicks(List<Long> pids) {
    long sum = 0;
    for (long pid : pids) {
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "task"))) {
        for (Path task : tasks) {
          if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
            sum += threadTicks(Files.readString(task.resolve("stat")));
          }
        }
      } catch (IOException | RuntimeException e) {
        return UNKNOWN;
      }
    }
    return sum;
  }

  /** User plus system ticks from a {@code stat} line; the name in parentheses may hold spaces. */
  static long threadTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    // After the name: state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
