package io.hivemesh.mesh;

import io.hivemesh.model.ModelName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a site's Ollama holds: its {@code /api/tags} and {@code /api/ps} entries as Ollama wrote them,
 * and its version. Published in {@link MeshView#INVENTORY_MAP} when it changes; larger and far less
 * frequent than {@link SiteState}.
 */
public record SiteInventory(String name, String version, List<JsonObject> tags, List<JsonObject> ps) {

  /** The tags entries by model key. */
  public Map<String, JsonObject> modelsByKey() {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    for (JsonObject t : tags) {
      out.put(ModelName.key(modelName(t)), t);
    }
    return out;
  }

  /** The name Ollama lists an entry under ({@code name}, older versions only {@code model}). */
  public static String modelName(JsonObject entry) {
    String n = entry.getString("name");
    return n != null ? n : entry.getString("model", "");
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("version", version)
        .put("tags", new JsonArray(List.copyOf(tags))).put("ps", new JsonArray(List.copyOf(ps)));
  }

  public static SiteInventory fromJson(JsonObject j) {
    return new SiteInventory(j.getString("name"), j.getString("version", "0.0.0"),
        objects(j.getJsonArray("tags")), objects(j.getJsonArray("ps")));
  }

  static List<JsonObject> objects(JsonArray a) {
    if (a == null) {
      return List.of();
    }
    return a.stream().filter(JsonObject.class::isInstance).map(JsonObject.class::cast).toList();
  }
}
