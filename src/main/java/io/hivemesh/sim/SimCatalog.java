package io.hivemesh.sim;

import io.hivemesh.model.ModelName;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The models "on disk" and the uploaded blobs. Used on the sim's event loop only. */
final class SimCatalog {

  private final Map<String, SimModel> models = new LinkedHashMap<>();
  private final Set<String> blobs = new HashSet<>();

  /** Seeds the catalog; earlier names look more recently modified, so /api/tags keeps their order. */
  SimCatalog(List<String> names) {
    Instant now = GoTime.now();
    for (int i = 0; i < names.size(); i++) {
      ModelName n = ModelName.parse(names.get(i));
      if (!ModelName.isBlank(names.get(i)) && n.isValid()) {
        models.putIfAbsent(n.key(), SimModel.of(n, now.minusSeconds(3600L * (i + 1))));
      }
    }
  }

  SimModel find(ModelName name) {
    return models.get(name.key());
  }

  void put(SimModel model) {
    models.put(model.key(), model);
  }

  boolean remove(ModelName name) {
    return models.remove(name.key()) != null;
  }

  /** Newest first, like Ollama's list. */
  List<SimModel> list() {
    List<SimModel> out = new ArrayList<>(models.values());
    out.sort(Comparator.comparing(SimModel::modifiedAt).reversed());
    return out;
  }

  void addBlob(String digest) {
    blobs.add(digest.replace('-', ':'));
  }

  /** Uploaded blobs and the layers of every model on disk. */
  boolean hasBlob(String digest) {
    String d = digest.replace('-', ':');
    if (blobs.contains(d)) {
      return true;
    }
    for (SimModel m : models.values()) {
      for (SimModel.Layer l : m.layers()) {
        if (l.digest().equalsIgnoreCase(d)) {
          return true;
        }
      }
    }
    return false;
  }
}
