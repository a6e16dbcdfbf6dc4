package io.hivemesh.model;

import java.util.Locale;

/**
 * A model reference parsed like Ollama's {@code model.ParseName}: {@code [host/][namespace/]model[:tag]}
 * with defaults {@code registry.ollama.ai}, {@code library} and {@code latest}. Matching is
 * case-insensitive, so {@code llama3.2}, {@code Llama3.2:latest} and
 * {@code registry.ollama.ai/library/llama3.2:latest} are one model. The mesh indexes and matches
 * models by {@link #key(String)}; the emulator uses the parts as Ollama does.
 */
public final class ModelName {

  public static final String DEFAULT_HOST = "registry.ollama.ai";
  public static final String DEFAULT_NAMESPACE = "library";
  public static final String DEFAULT_TAG = "latest";
  private static final String MISSING = "!MISSING!";

  private final String host;
  private final String namespace;
  private final String model;
  private final String tag;

  private ModelName(String host, String namespace, String model, String tag) {
    this.host = host;
    this.namespace = namespace;
    this.model = model;
    this.tag = tag;
  }

  /** Parses a reference; an explicit {@code :local} source suffix is dropped like Ollama does. */
  public static ModelName parse(String raw) {
    String s = raw == null ? "" : raw.trim();
    int colon = s.lastIndexOf(':');
    if (colon >= 0 && s.substring(colon + 1).trim().equalsIgnoreCase("local")) {
      s = s.substring(0, colon);
    }
    String tag = "";
    if (s.lastIndexOf(':') > s.lastIndexOf('/')) {
      int i = s.lastIndexOf(':');
      tag = orMissing(s.substring(i + 1));
      s = orMissing(s.substring(0, i));
    }
    String host = "";
    String namespace = "";
    String model;
    int slash = s.lastIndexOf('/');
    if (slash < 0) {
      model = s;
    } else {
      model = orMissing(s.substring(slash + 1));
      s = orMissing(s.substring(0, slash));
      slash = s.lastIndexOf('/');
      if (slash < 0) {
        namespace = s;
      } else {
        namespace = orMissing(s.substring(slash + 1));
        host = orMissing(s.substring(0, slash));
        int scheme = host.indexOf("://");
        if (scheme >= 0) {
          host = host.substring(scheme + 3);
        }
      }
    }
    return new ModelName(host.isEmpty() ? DEFAULT_HOST : host, namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace,
        model, tag.isEmpty() ? DEFAULT_TAG : tag);
  }

  private static String orMissing(String part) {
    return part.isEmpty() ? MISSING : part;
  }

  /** True when the name is blank, which Ollama reports differently from a malformed name. */
  public static boolean isBlank(String raw) {
    return raw == null || raw.trim().isEmpty();
  }

  /** Ollama's Name.IsValid: every part present and made of allowed characters. */
  public boolean isValid() {
    return validPart(host, 350, true) && validPart(namespace, 80, false) && namespace.indexOf('.') < 0
        && validPart(model, 80, false) && validPart(tag, 80, false);
  }

  private static boolean validPart(String s, int maxLen, boolean isHost) {
    if (s.isEmpty() || s.length() > maxLen) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      if (i == 0) {
        if (!alnum) {
          return false;
        }
      } else if (!alnum && c != '-' && c != '.' && !(isHost && c == ':')) {
        return false;
      }
    }
    return true;
  }

  /** The key a raw name is indexed and matched under; {@code ""} for a blank name. */
  public static String key(String raw) {
    return isBlank(raw) ? "" : parse(raw).key();
  }

  /** The case-insensitive identity used to match models. */
  public String key() {
    return (host + "/" + namespace + "/" + model + ":" + tag).toLowerCase(Locale.ROOT);
  }

  /** Ollama's DisplayShortest: {@code llama3.2:latest}, {@code user/model:tag}, {@code host/ns/model:tag}. */
  public String display() {
    StringBuilder sb = new StringBuilder();
    if (!host.equalsIgnoreCase(DEFAULT_HOST)) {
      sb.append(host).append('/').append(namespace).append('/');
    } else if (!namespace.equalsIgnoreCase(DEFAULT_NAMESPACE)) {
      sb.append(namespace).append('/');
    }
    return sb.append(model).append(':').append(tag).toString();
  }

  /** {@code registry.ollama.ai/library/llama3.2:latest}, as capability errors print it. */
  public String full() {
    return host + "/" + namespace + "/" + model + ":" + tag;
  }

  public String namespace() {
    return namespace;
  }

  public String model() {
    return model;
  }

  public String tag() {
    return tag;
  }

  /** The path of the manifest file Ollama would read, for its "no such file" messages. */
  public String manifestPath() {
    return "/root/.ollama/models/manifests/" + host + "/" + namespace + "/" + model + "/" + tag;
  }

  @Override
  public String toString() {
    return display();
  }
}
