package io.hivemesh.support.netns;

import io.hivemesh.support.proc.HiveJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code java -jar target/hive.jar COMMAND ARGS} in one host of a {@link NetNs}: a real node or sim
 * in a JVM of its own, logging to {@code LOGDIR/NAME.log}.
 */
public final class HiveProcess {

  private final NetNs net;
  private final int host;
  private final HiveJvm jvm;

  private HiveProcess(NetNs net, int host, HiveJvm jvm) {
    this.net = net;
    this.host = host;
    this.jvm = jvm;
  }

  /** Starts {@code hive COMMAND ARGS} in host {@code host}; returns at once, see {@link #awaitListening}. */
  public static HiveProcess start(NetNs net, int host, Path logDir, String name, String command, String... args) {
    List<String> cmd = HiveJvm.command(List.of(), command, List.of(args));
    Path log = logDir.resolve(name + ".log");
    return new HiveProcess(net, host, new HiveJvm(name, log, net.exec(host, cmd, log)));
  }

  /** Waits until a TCP connect to {@code address:port} succeeds from inside this process's host. */
  public HiveProcess awaitListening(String address, int port, Duration timeout) {
    jvm.awaitReady("listens on " + address + ":" + port, timeout,
        () -> net.run(host, Duration.ofSeconds(5), "bash", "-c", "</dev/tcp/" + address + "/" + port).exitCode() == 0);
    return this;
  }

  /** SIGKILL: a crash, nothing said to anyone. */
  public void kill() {
    jvm.kill();
  }

  /** SIGSTOP: the process freezes (as under heavy CPU starvation or a long GC pause); its sockets stay open. */
  public void freeze() {
    jvm.freeze();
  }

  /** SIGCONT after {@link #freeze}. */
  public void thaw() {
    jvm.thaw();
  }

  /** SIGTERM: a node leaves the mesh cleanly on it. */
  public void stop() {
    jvm.stop();
  }

  /** Whether the log so far has a line containing {@code text}. */
  public boolean logContains(String text) {
    return jvm.logContains(text);
  }

  /** The last lines of the log, for failure messages. */
  public String logTail() {
    return jvm.logTail();
  }

  @Override
  public String toString() {
    return jvm.name() + " in host " + host;
  }
}
