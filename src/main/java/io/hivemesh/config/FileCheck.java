package io.hivemesh.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every problem of a config file, not only the first. A command's checks stop at the first bad
 * option (a start fails with one line); here they run again and again, each time with the option
 * that failed put back to its default, so one bad value does not hide the next. The checks are
 * the command's own: nothing is validated twice in two ways.
 */
public final class FileCheck {

  private FileCheck() {
  }

  /**
   * @param assumed  values for options the file may leave to the flags or environment at start
   *                 (so their absence is no problem here)
   * @param validate the command's checks; throws a {@link ConfigException} naming the option at fault
   */
  public static List<ConfigException> problems(List<OptionSpec> specs, Settings.FileContents file,
                                               Map<String, String> assumed, Consumer<Settings> validate) {
    Map<String, OptionSpec> byName = new LinkedHashMap<>();
    specs.forEach(spec -> byName.put(spec.name(), spec));
    List<ConfigException> found = new ArrayList<>(file.problems());
    Map<String, String> overrides = new LinkedHashMap<>(assumed);
    // Each round either passes or sets one more option aside: at most one round per option.
    for (int round = 0; round <= specs.size(); round++) {
      try {
        validate.accept(Settings.fromFile(specs, file, overrides));
        return found;
      } catch (ConfigException e) {
        String option = e.option();
        if (option == null || !byName.containsKey(option) || overrides.containsKey(option)) {
          // Not one option's fault (or still failing with it at its default, as a rule between two
          // options does): reported once, and nothing more can be set aside.
          if (found.stream().noneMatch(f -> f.getMessage().equals(e.getMessage()))) {
            found.add(e);
          }
          return found;
        }
        found.add(e);
        String fallback = byName.get(option).defaultValue();
        overrides.put(option, fallback == null ? "" : fallback);
      }
    }
    return found;
  }
}
