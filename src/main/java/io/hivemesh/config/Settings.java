package io.hivemesh.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolved option values of one command. Precedence, highest first: command-line flag,
 * environment variable ({@code HIVE_*}), config file ({@code --config}, read with vertx-config's
 * YAML format by {@link YamlConfigFile}), built-in default.
 * Every accessor validates and fails with a {@link ConfigException} naming the option.
 */
public final class Settings {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

  private final Map<String, OptionSpec> specs;
  private final Map<String, String> values;
  private final Map<String, String> origin;

  private Settings(Map<String, OptionSpec> specs, Map<String, String> values, Map<String, String> origin) {
    this.specs = specs;
    this.values = values;
    this.origin = origin;
  }

  /**
   * Resolves {@code specs} from the command line, the environment and the config file named by
   * the {@code config} option (if the command declares one).
   */
  public static Settings resolve(List<OptionSpec> specList, String[] args, Map<String, String> env) {
    Map<String, OptionSpec> specs = byName(specList);
    Map<String, String> flags = parseArgs(specs, args);
    String configFile = flags.getOrDefault("config", env.get("HIVE_CONFIG"));
    FileContents file = null;
    if (configFile != null && specs.containsKey("config")) {
      file = readFile(specList, Path.of(configFile));
      if (!file.problems().isEmpty()) {
        throw file.problems().get(0);
      }
    }
    return layered(specs, flags, env, file);
  }

  /**
   * The options as a config file alone sets them: its values over the defaults, with {@code flags}
   * (option name to value) over both and no environment. Keys that are no option are left out;
   * they are in {@link FileContents#problems()}.
   */
  public static Settings fromFile(List<OptionSpec> specList, FileContents file, Map<String, String> flags) {
    return layered(byName(specList), flags, Map.of(), file);
  }

  private static Map<String, OptionSpec> byName(List<OptionSpec> specList) {
    Map<String, OptionSpec> specs = new LinkedHashMap<>();
    for (OptionSpec spec : specList) {
      specs.put(spec.name(), spec);
    }
    return specs;
  }

  /** Precedence, lowest first: default, file, environment, flag. */
  private static Settings layered(Map<String, OptionSpec> specs, Map<String, String> flags, Map<String, String> env,
                                  FileContents file) {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> origin = new LinkedHashMap<>();
    for (OptionSpec spec : specs.values()) {
      if (spec.defaultValue() != null) {
        values.put(spec.name(), spec.defaultValue());
        origin.put(spec.name(), "--" + spec.name());
      }
    }
    if (file != null) {
      for (Map.Entry<String, String> e : file.values().entrySet()) {
        values.put(e.getKey(), e.getValue());
        origin.put(e.getKey(), "'" + e.getKey() + "' in " + file.file());
      }
    }
    for (OptionSpec spec : specs.values()) {
      String v = env.get(spec.envName());
      if (v != null) {
        values.put(spec.name(), v);
        origin.put(spec.name(), spec.envName());
      }
    }
    for (Map.Entry<String, String> e : flags.entrySet()) {
      values.put(e.getKey(), e.getValue());
      origin.put(e.getKey(), "--" + e.getKey());
    }
    return new Settings(specs, values, origin);
  }

  /**
   * A config file's entries that are options, as text (a list becomes comma-separated), and one
   * problem per key that is no option of the command or holds a map.
   */
  public record FileContents(Path file, Map<String, String> values, List<ConfigException> problems) {
  }

  /** Reads a YAML config file of {@code option: value} lines; unreadable or invalid YAML is thrown. */
  public static FileContents readFile(List<OptionSpec> specList, Path file) {
    Map<String, OptionSpec> specs = byName(specList);
    Map<String, String> out = new LinkedHashMap<>();
    List<ConfigException> problems = new ArrayList<>();
    for (Map.Entry<String, Object> e : YamlConfigFile.read(file).getMap().entrySet()) {
      String key = e.getKey();
      if (!specs.containsKey(key) || key.equals("config")) {
        problems.add(new ConfigException(key, "unknown key '" + key + "' in " + file));
        continue;
      }
      Object v = e.getValue();
      if (v instanceof JsonArray array) {
        v = array.getList();
      }
      if (v instanceof List<?> list) {
        out.put(key, String.join(",", list.stream().map(String::valueOf).toList()));
      } else if (v instanceof Map || v instanceof JsonObject) {
        problems.add(new ConfigException(key, "'" + key + "' in " + file + " must be a single value"));
      } else if (v != null) {
        out.put(key, String.valueOf(v));
      }
    }
    return new FileContents(file, out, problems);
  }

  private static Map<String, String> parseArgs(Map<String, OptionSpec> specs, String[] args) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new ConfigException("unexpected argument '" + arg + "' (options start with --)");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      OptionSpec spec = specs.get(name);
      if (spec == null) {
        throw new ConfigException("unknown option --" + name);
      }
      if (spec.flag()) {
        flags.put(name, value == null ? "true" : value);
        continue;
      }
      if (value == null) {
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new ConfigException("--" + name + " needs a value");
        }
        value = args[++i];
      }
      flags.put(name, value);
    }
    return flags;
  }

  private ConfigException bad(String name, String expected) {
    return new ConfigException(name, origin.getOrDefault(name, "--" + name) + ": expected " + expected
        + ", got '" + values.get(name) + "'");
  }

  private String raw(String name) {
    if (!specs.containsKey(name)) {
      throw new IllegalArgumentException("undeclared option " + name);
    }
    return values.get(name);
  }

  public boolean has(String name) {
    String v = raw(name);
    return v != null && !v.isBlank();
  }

  public String string(String name) {
    String v = raw(name);
    if (v == null || v.isBlank()) {
      throw new ConfigException(name, "--" + name + " is required (or set " + specs.get(name).envName() + ")");
    }
    return v.trim();
  }

  public String stringOr(String name, String fallback) {
    return has(name) ? string(name) : fallback;
  }

  public int integer(String name, int min, int max) {
    String v = string(name);
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) {
        throw bad(name, "a number from " + min + " to " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw bad(name, "a number from " + min + " to " + max);
    }
  }

  public double decimal(String name, double min) {
    try {
      double d = Double.parseDouble(string(name));
      if (!(d >= min) || Double.isInfinite(d)) {
        throw bad(name, "a number of at least " + min);
      }
      return d;
    } catch (NumberFormatException e) {
      throw bad(name, "a number of at least " + min);
    }
  }

  /** A TCP port; 0 lets the system choose where {@code allowZero}. */
  public int port(String name, boolean allowZero) {
    return integer(name, allowZero ? 0 : 1, 65535);
  }

  public boolean bool(String name) {
    String v = string(name);
    return switch (v.toLowerCase()) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw bad(name, "true or false");
    };
  }

  /** {@code 500ms}, {@code 2s}, {@code 10m}, {@code 1h}, or a bare number of milliseconds. */
  public Duration duration(String name) {
    Matcher m = DURATION.matcher(string(name));
    if (!m.matches()) {
      throw bad(name, "a duration such as 500ms, 2s or 10m");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    return switch (unit) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofMillis(n);
    };
  }

  /** A byte size: {@code 64m}, {@code 512k}, {@code 1g} or a bare number of bytes. */
  public long bytes(String name) {
    String v = string(name).toLowerCase();
    long mult = 1;
    char last = v.charAt(v.length() - 1);
    if (last == 'k' || last == 'm' || last == 'g') {
      mult = last == 'k' ? 1024L : last == 'm' ? 1024L * 1024 : 1024L * 1024 * 1024;
      v = v.substring(0, v.length() - 1);
    }
    try {
      long n = Long.parseLong(v) * mult;
      if (n <= 0) {
        throw bad(name, "a positive size such as 64m");
      }
      return n;
    } catch (NumberFormatException e) {
      throw bad(name, "a size such as 64m or 512k");
    }
  }

  /** A comma-separated list; empty when unset. */
  public List<String> list(String name) {
    String v = raw(name);
    if (v == null || v.isBlank()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }

  /** A file path, or {@code null} when the option is not set. */
  public Path path(String name) {
    String v = raw(name);
    return v == null || v.isBlank() ? null : Path.of(v.trim());
  }

  /** A comma-separated list of file paths. */
  public List<Path> paths(String name) {
    return list(name).stream().map(Path::of).toList();
  }

  /** An http(s) URL such as {@code http://127.0.0.1:11434}. */
  public URI httpUrl(String name) {
    String v = string(name);
    try {
      URI uri = URI.create(v.contains("://") ? v : "http://" + v);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw bad(name, "an http:// or https:// URL with a host");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw bad(name, "an http:// or https:// URL with a host");
    }
  }

  /** {@code HOST:PORT} entries. */
  public List<String> hostPorts(String name) {
    List<String> out = list(name);
    for (String hp : out) {
      int colon = hp.lastIndexOf(':');
      boolean ok = colon > 0;
      if (ok) {
        try {
          int p = Integer.parseInt(hp.substring(colon + 1));
          ok = p > 0 && p < 65536;
        } catch (NumberFormatException e) {
          ok = false;
        }
      }
      if (!ok) {
        throw new ConfigException(name, origin.getOrDefault(name, "--" + name)
            + ": expected HOST:PORT entries separated by commas, got '" + hp + "'");
      }
    }
    return out;
  }

  /** One of {@code allowed}. */
  public String choice(String name, List<String> allowed) {
    String v = string(name);
    if (!allowed.contains(v)) {
      throw bad(name, "one of " + String.join(", ", allowed));
    }
    return v;
  }

  /** Usage text: one line per option. */
  public static String usage(String command, List<OptionSpec> specs) {
    StringBuilder sb = new StringBuilder("usage: hive ").append(command).append(" [options]\n");
    for (OptionSpec s : specs) {
      String left = "  --" + s.name() + (s.flag() ? "" : " VALUE");
      sb.append(left).append(" ".repeat(Math.max(1, 28 - left.length()))).append(s.help());
      if (s.defaultValue() != null && !s.flag()) {
        sb.append(" (default ").append(s.defaultValue()).append(')');
      }
      sb.append(" [").append(s.envName()).append("]\n");
    }
    return sb.toString();
  }

  public static boolean wantsHelp(String[] args) {
    return Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h");
  }
}
