package io.hivemesh.cli;

import io.hivemesh.config.ConfigException;
import java.io.PrintStream;
import java.util.Arrays;

/** {@code java -jar hive.jar COMMAND [options]}. */
public final class Main {

  private static final String USAGE = """
      usage: hive COMMAND [options]   (hive COMMAND --help for its options)
        node   run a mesh node next to this site's Ollama
        edge   run a site that only dials out to a node (behind NAT or a firewall)
        sim    run the Ollama emulator
        demo   start a three-site mesh on this machine and show how to use it
        certs  create the mesh's CA and a TLS certificate per node
        token  mint a JWT for a client of the mesh
        config check FILE   check a node config file; prints every problem
        bench  compare the mesh with one Ollama, nginx and HAProxy (docs/benchmarks.md)
        status show the mesh as a node sees it: sites, models, load
      """;

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
    // Otherwise the command's servers keep the JVM alive until a signal.
  }

  /**
   * Runs a command; returns the exit code. Problems an operator can fix end here as one line on
   * {@code err}, never as a stack trace.
   */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      (args.length == 0 ? err : out).print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (args[0]) {
        case "node" -> NodeCommand.run(rest, out);
        case "edge" -> EdgeCommand.run(rest, out);
        case "sim" -> SimCommand.run(rest, out);
        case "demo" -> DemoCommand.run(rest, out);
        case "certs" -> CertsCommand.run(rest, out);
        case "token" -> TokenCommand.run(rest, out);
        case "config" -> ConfigCommand.run(rest, out);
        case "bench" -> BenchCommand.run(rest, out);
        case "status" -> StatusCommand.run(rest, out);
        default -> throw new ConfigException("unknown command '" + args[0] + "' (node, edge, sim, demo, certs, token, config, bench, status)");
      }
      return 0;
    } catch (ConfigException e) {
      err.println("hive: " + e.getMessage());
      return 2;
    } catch (StartupException e) {
      err.println("hive: " + e.getMessage());
      return 1;
    }
  }

  /** A command could not start (port taken, cluster unreachable): one line, exit 1. */
  static final class StartupException extends RuntimeException {
    StartupException(String message) {
      super(message, null, false, false);
    }
  }

  /** The first line of the deepest cause, which is the one that says what went wrong. */
  static String reason(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return msg.lines().findFirst().orElse(msg);
  }
}
