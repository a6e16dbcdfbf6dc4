package io.hivemesh.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A bad or missing setting. Its message is the one line an operator sees: it names the option. */
public final class ConfigException extends RuntimeException {

  private static final Pattern LEADING_FLAG = Pattern.compile("--([a-z0-9][a-z0-9-]*)\\b.*", Pattern.DOTALL);

  private final String option;

  public ConfigException(String message) {
    this(null, message);
  }

  /** A problem with {@code option} (its name, without dashes). */
  public ConfigException(String option, String message) {
    super(message, null, false, false);
    this.option = option;
  }

  /**
   * The option at fault: the one given, else the flag the message starts with (every check that
   * does not go through {@link Settings} names its option that way), else {@code null}.
   */
  public String option() {
    if (option != null) {
      return option;
    }
    Matcher m = LEADING_FLAG.matcher(getMessage());
    return m.matches() ? m.group(1) : null;
  }
}
