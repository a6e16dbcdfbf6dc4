package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/configuration.md and conf/hive.yaml against the options the commands declare: neither may
 * miss an option, nor name one that does not exist, nor state another default.
 */
class ConfigReferenceTest {

  private static final Path REFERENCE = Path.of("docs/configuration.md");
  private static final Pattern SECTION = Pattern.compile("(?m)^## `hive (\\w+)`\\s*$");
  private static final Pattern ROW = Pattern.compile("(?m)^\\| [^|]* \\| `--([a-z0-9-]+)` \\|.*$");

  /** Each command's options, and whether it reads the environment. */
  private record Command(List<OptionSpec> options, boolean readsEnvironment) {
  }

  private static final Map<String, Command> COMMANDS = Map.of(
      "node", new Command(NodeConfig.OPTIONS, true),
      "edge", new Command(io.hivemesh.edge.EdgeConfig.OPTIONS, true),
      "sim", new Command(SimCommand.OPTIONS, true),
      "token", new Command(TokenCommand.OPTIONS, true),
      "certs", new Command(CertsCommand.OPTIONS, true),
      "demo", new Command(DemoCommand.OPTIONS, false));

  /**
   * Defaults the reference states in words because they depend on the machine (the declared one
   * is computed at start).
   */
  private static final Map<String, String> MACHINE_DEFAULTS = Map.of("node event-loops", "cores, at most 4");

  /** The rows of each {@code ## `hive COMMAND`} section, by option name. */
  private static Map<String, Map<String, String>> rowsByCommand() throws IOException {
    String doc = Files.readString(REFERENCE);
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    Matcher section = SECTION.matcher(doc);
    List<int[]> bounds = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while (section.find()) {
      names.add(section.group(1));
      bounds.add(new int[] {section.end(), 0});
    }
    for (int i = 0; i < bounds.size(); i++) {
      int end = i + 1 < bounds.size() ? doc.lastIndexOf("## `hive", bounds.get(i + 1)[0]) : doc.length();
      Map<String, String> rows = new LinkedHashMap<>();
      Matcher row = ROW.matcher(doc.substring(bounds.get(i)[0], end));
      while (row.find()) {
        rows.put(row.group(1), row.group());
      }
      out.put(names.get(i), rows);
    }
    return out;
  }

  @Test
  void referenceHasARowForEveryOptionOfEveryCommandAndNoOther() throws IOException {
    Map<String, Map<String, String>> documented = rowsByCommand();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Command> c : COMMANDS.entrySet()) {
      Map<String, String> rows = documented.getOrDefault(c.getKey(), Map.of());
      Set<String> declared = new TreeSet<>();
      boolean hasFile = c.getValue().options().stream().anyMatch(o -> o.name().equals("config"));
      for (OptionSpec spec : c.getValue().options()) {
        declared.add(spec.name());
        String row = rows.get(spec.name());
        String where = "hive " + c.getKey() + " --" + spec.name();
        if (row == null) {
          problems.add(where + ": no row in " + REFERENCE + "; expected | `" + spec.name() + "` | `--" + spec.name()
              + "` | `" + spec.envName() + "` | `" + spec.defaultValue() + "` | ... | " + spec.help() + " |");
          continue;
        }
        String[] cells = row.split(" \\| ");
        String key = cells[0].substring(2);
        String env = cells[2];
        String dflt = cells[3];
        boolean fileKey = hasFile && !spec.name().equals("config");
        if (!key.equals(fileKey ? "`" + spec.name() + "`" : "—")) {
          problems.add(where + ": file key column says " + key);
        }
        if (!env.equals(c.getValue().readsEnvironment() ? "`" + spec.envName() + "`" : "—")) {
          problems.add(where + ": environment column says " + env);
        }
        String expected = MACHINE_DEFAULTS.get(c.getKey() + " " + spec.name());
        if (expected == null) {
          expected = spec.flag() ? "`false` (switch)" : spec.defaultValue() == null || spec.defaultValue().isEmpty()
              ? null : "`" + spec.defaultValue() + "`";
        }
        if (expected == null ? !(dflt.equals("unset") || dflt.equals("**required**")) : !dflt.equals(expected)) {
          problems.add(where + ": default column says " + dflt + ", declared " + spec.defaultValue());
        }
        if (!row.contains(spec.help())) {
          problems.add(where + ": the row does not carry the option's help line: " + spec.help());
        }
      }
      for (String name : rows.keySet()) {
        if (!declared.contains(name)) {
          problems.add("hive " + c.getKey() + ": " + REFERENCE + " documents --" + name + ", which is no option");
        }
      }
    }
    assertEquals(List.of(), problems);
    assertEquals(new TreeSet<>(COMMANDS.keySet()), new TreeSet<>(documented.keySet()), "a section per command");
  }

  @Test
  void shippedConfigFileNamesEveryNodeOption() throws IOException {
    String file = Files.readString(Path.of("conf/hive.yaml"));
    List<String> missing = new ArrayList<>();
    for (OptionSpec spec : NodeConfig.OPTIONS) {
      if (spec.name().equals("config")) {
        continue;
      }
      // Set, or shown commented out where its value is the site's own (a key path, a name).
      if (!Pattern.compile("(?m)^(# )?" + Pattern.quote(spec.name()) + ":").matcher(file).find()) {
        missing.add(spec.name());
      }
    }
    assertEquals(List.of(), missing, "conf/hive.yaml names every node option");
    // And what it sets is what the node takes by default: the file documents, it does not change.
    Settings.FileContents shipped = Settings.readFile(NodeConfig.OPTIONS, Path.of("conf/hive.yaml"));
    assertEquals(List.of(), shipped.problems());
    for (OptionSpec spec : NodeConfig.OPTIONS) {
      String value = shipped.values().get(spec.name());
      if (value != null) {
        assertEquals(spec.defaultValue(), value, "conf/hive.yaml " + spec.name());
      }
    }
  }

  @Test
  void referenceExamplesAreValidFiles(@TempDir Path dir) throws IOException {
    Matcher block = Pattern.compile("(?s)```yaml\\n(.*?)```").matcher(Files.readString(REFERENCE));
    int n = 0;
    while (block.find()) {
      Path file = dir.resolve("example" + n++ + ".yaml");
      Files.writeString(file, block.group(1));
      Settings.FileContents contents = Settings.readFile(NodeConfig.OPTIONS, file);
      assertEquals(List.of(), contents.problems(), block.group(1));
      Settings s = Settings.fromFile(NodeConfig.OPTIONS, contents, Map.of());
      assertFalse(s.hostPorts("join").isEmpty());
      s.choice("strategy", List.of("loaded-first", "least-loaded", "round-robin"));
      s.duration("connect-timeout");
    }
    assertTrue(n > 0, "the reference has a YAML example");
  }
}
