package io.hivemesh.cli;

import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.hivemesh.security.MeshPki;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** {@code hive certs}: the mesh's CA and a certificate per node, for mutual TLS between nodes. */
final class CertsCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.required("out", "directory for ca.crt, ca.key, NAME.crt, NAME.key; a CA already there is reused"),
      OptionSpec.required("nodes", "node names, NAME[,NAME...], as in hive node --name"),
      OptionSpec.of("san", null, "more names on every node certificate: host names or IP addresses, comma-separated"),
      OptionSpec.of("days", "365", "validity of the node certificates in days"));

  private CertsCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("certs", OPTIONS));
      return;
    }
    Settings s = Settings.resolve(OPTIONS, args, System.getenv());
    Path dir = Path.of(s.string("out"));
    List<String> nodes = s.list("nodes");
    if (nodes.isEmpty()) {
      throw new ConfigException("--nodes: name at least one node, e.g. --nodes lab-gpu,workstation");
    }
    Duration validity = Duration.ofDays(s.integer("days", 1, 36_500));
    Path caKey = dir.resolve("ca.key");
    List<Path> written = MeshPki.create(dir, nodes, s.list("san"), validity);
    if (!written.contains(caKey)) {
      out.println("signed with the existing CA in " + dir.resolve("ca.crt"));
    }
    for (Path file : written) {
      out.println("wrote " + file);
    }
    out.println("keep " + caKey + " in " + dir + " and never copy it to a node: it signs new node certificates;"
        + " each node gets ca.crt, NAME.crt and NAME.key");
  }
}
