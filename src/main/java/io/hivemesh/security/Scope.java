package io.hivemesh.security;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a token's {@code scope} claim lets its holder do. Unknown scope words are ignored. */
public enum Scope {
  /** generate, chat, embed and the OpenAI-compatible routes. */
  INFERENCE("inference"),
  /** tags, ps, show, {@code /v1/models}. */
  MODELS_READ("models:read"),
  /** model management, pinning a site with {@code X-Hive-Node}, the mesh's own endpoints. */
  ADMIN("admin"),
  /** attaching an edge site to a node. */
  EDGE("edge");

  private final String word;

  Scope(String word) {
    this.word = word;
  }

  public String word() {
    return word;
  }

  /** Parses a space-separated scope string, as in RFC 8693 and OAuth 2. */
  public static Set<Scope> parse(String words) {
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    if (words == null) {
      return scopes;
    }
    for (String w : words.trim().split("\\s+")) {
      for (Scope s : values()) {
        if (s.word.equals(w.toLowerCase(Locale.ROOT))) {
          scopes.add(s);
        }
      }
    }
    return scopes;
  }
}
