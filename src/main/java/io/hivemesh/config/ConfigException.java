package io.hivemesh.config;

/** A bad or missing setting. Its message is the one line an operator sees: it names the option. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
