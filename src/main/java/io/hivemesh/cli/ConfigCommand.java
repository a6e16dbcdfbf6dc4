package io.hivemesh.cli;

import io.hivemesh.NodeConfig;
import io.hivemesh.config.ConfigException;
import io.hivemesh.config.FileCheck;
import io.hivemesh.config.Settings;
import io.hivemesh.mesh.ClusterConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code hive config check FILE}: every problem of a node's config file, one line each naming its
 * key, by the same checks a starting node makes. The file is judged alone: the environment is not
 * read, and what a file commonly leaves to the flags or environment of each site (its name, the
 * key for client tokens) is noted, not counted as a problem.
 */
final class ConfigCommand {

  static final String USAGE = """
      usage: hive config check FILE
        Checks a node config file (such as conf/hive.yaml) by the checks a starting node makes and
        prints every problem, each naming its key. Exit 0 when there is none, 2 otherwise.
      """;

  private static final List<String> TOKEN_KEYS = List.of("jwt-secret-file", "jwt-public-key", "jwks", "insecure-no-auth");

  private ConfigCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(USAGE);
      return;
    }
    if (args.length != 2 || !args[0].equals("check")) {
      throw new ConfigException("usage: hive config check FILE");
    }
    Path file = Path.of(args[1]);
    Settings.FileContents contents = Settings.readFile(NodeConfig.OPTIONS, file);
    Map<String, String> assumed = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    if (!contents.values().containsKey("name")) {
      assumed.put("name", "config-check");
      notes.add("name is not set here: give each node its own at start (--name or HIVE_NAME)");
    }
    if (TOKEN_KEYS.stream().noneMatch(contents.values()::containsKey)) {
      assumed.put("insecure-no-auth", "true");
      notes.add("no key for client tokens here: give jwt-secret-file, jwt-public-key or jwks at start"
          + " (flag or HIVE_* variable), or the node refuses to start");
    }
    List<ConfigException> problems = FileCheck.problems(NodeConfig.OPTIONS, contents, assumed,
        settings -> ClusterConfig.read(NodeConfig.from(settings)));
    for (String note : notes) {
      out.println("note: " + note);
    }
    for (ConfigException problem : problems) {
      out.println(problem.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(file + ": " + problems.size() + (problems.size() == 1 ? " problem" : " problems"));
    }
    out.println(file + ": ok");
  }
}
