package io.hivemesh.security;

import io.hivemesh.model.ModelName;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The models a token may use: its {@code models} claim. A plain name matches that model the way
 * Ollama resolves names ({@code mistral} is {@code mistral:latest}); a name with {@code *} or
 * {@code ?} is a glob over the name as Ollama lists it ({@code llama3*}, {@code *:7b}). No claim
 * means every model.
 */
public final class ModelAccess {

  public static final ModelAccess ALL = new ModelAccess(new TreeSet<>(), Set.of(), List.of());

  /** The claim, normalized: equal claims give equal (and equally cached) views. */
  private final TreeSet<String> patterns;
  private final Set<String> exactKeys;
  private final List<Pattern> globs;

  private ModelAccess(TreeSet<String> patterns, Set<String> exactKeys, List<Pattern> globs) {
    this.patterns = patterns;
    this.exactKeys = exactKeys;
    this.globs = globs;
  }

  public static ModelAccess of(List<String> claim) {
    if (claim == null) {
      return ALL;
    }
    TreeSet<String> patterns = new TreeSet<>();
    Set<String> exact = new HashSet<>();
    List<Pattern> globs = new ArrayList<>();
    for (String raw : claim) {
      String p = raw == null ? "" : raw.trim();
      if (p.isEmpty()) {
        continue;
      }
      patterns.add(p);
      if (p.indexOf('*') >= 0 || p.indexOf('?') >= 0) {
        globs.add(glob(p));
      } else {
        exact.add(ModelName.key(p));
      }
    }
    // An empty list is a token for no model at all, not for every model.
    return new ModelAccess(patterns, Set.copyOf(exact), List.copyOf(globs));
  }

  public boolean all() {
    return this == ALL;
  }

  /** Whether a model, named as a client or a site names it, is allowed. */
  public boolean allows(String model) {
    if (all()) {
      return true;
    }
    if (ModelName.isBlank(model)) {
      return false;
    }
    ModelName name = ModelName.parse(model);
    if (exactKeys.contains(name.key())) {
      return true;
    }
    String display = name.display();
    for (Pattern g : globs) {
      if (g.matcher(display).matches() || g.matcher(model.trim()).matches()) {
        return true;
      }
    }
    return false;
  }

  private static Pattern glob(String p) {
    StringBuilder re = new StringBuilder();
    for (char c : p.toCharArray()) {
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelAccess other && (all() ? other.all() : !other.all() && patterns.equals(other.patterns));
  }

  @Override
  public int hashCode() {
    return all() ? -1 : patterns.hashCode();
  }

  @Override
  public String toString() {
    return all() ? "*" : String.join(",", patterns);
  }
}
