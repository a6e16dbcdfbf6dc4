package io.hivemesh.config;

import java.util.Locale;

/**
 * One option of a command: its flag is {@code --name}, its config-file key {@code name}, its
 * environment variable {@code HIVE_NAME} (dashes become underscores).
 *
 * @param name         option name, lower case with dashes
 * @param help         one line for {@code --help}
 * @param defaultValue textual default, or {@code null} when the option has none
 * @param flag         true for a switch that takes no value on the command line
 */
public record OptionSpec(String name, String help, String defaultValue, boolean flag) {

  public static OptionSpec of(String name, String defaultValue, String help) {
    return new OptionSpec(name, help, defaultValue, false);
  }

  public static OptionSpec required(String name, String help) {
    return new OptionSpec(name, help, null, false);
  }

  public static OptionSpec flag(String name, String help) {
    return new OptionSpec(name, help, "false", true);
  }

  public String envName() {
    return "HIVE_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }
}
