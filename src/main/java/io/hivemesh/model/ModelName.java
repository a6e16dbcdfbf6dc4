package io.hivemesh.model;

import java.util.Locale;

/**
 * Model names compared the way Ollama compares them: {@code llama3.2}, {@code llama3.2:latest},
 * {@code library/llama3.2} and {@code registry.ollama.ai/library/LLaMA3.2:latest} are one model.
 * The canonical key is lower case, without the default registry and namespace, and always tagged.
 */
public final class ModelName {

  private static final String DEFAULT_REGISTRY = "registry.ollama.ai/";
  private static final String DEFAULT_NAMESPACE = "library/";
  private static final String DEFAULT_TAG = ":latest";

  private ModelName() {
  }

  /** The key under which a model is indexed and matched; {@code ""} for a blank name. */
  public static String key(String name) {
    if (name == null) {
      return "";
    }
    String n = name.trim().toLowerCase(Locale.ROOT);
    if (n.isEmpty()) {
      return "";
    }
    int digest = n.indexOf('@');
    if (digest >= 0) {
      n = n.substring(0, digest);
    }
    if (n.startsWith(DEFAULT_REGISTRY)) {
      n = n.substring(DEFAULT_REGISTRY.length());
    }
    if (n.startsWith(DEFAULT_NAMESPACE)) {
      n = n.substring(DEFAULT_NAMESPACE.length());
    }
    int slash = n.lastIndexOf('/');
    if (n.indexOf(':', slash + 1) < 0) {
      n = n + DEFAULT_TAG;
    }
    return n;
  }
}
