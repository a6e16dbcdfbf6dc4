package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import io.hivemesh.json.GoText;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a decoded JSON object the way Go unmarshals it into an Ollama request struct: keys match
 * case-insensitively, {@code null} leaves the zero value, and a value of the wrong JSON type fails
 * with Go's {@code json: cannot unmarshal ... into Go struct field ...} message (400 in Ollama).
 */
final class GoFields {

  private final String struct;
  private final String path;
  private final Map<String, Object> map;

  private GoFields(String struct, String path, Map<String, Object> map) {
    this.struct = struct;
    this.path = path;
    this.map = map;
  }

  /** The top-level request object; JSON {@code null} decodes to an all-zero struct like in Go. */
  @SuppressWarnings("unchecked")
  static GoFields of(Object decoded, String goPackage, String struct) {
    if (decoded == null) {
      return new GoFields(struct, "", Map.of());
    }
    if (decoded instanceof Map<?, ?> m) {
      return new GoFields(struct, "", (Map<String, Object>) m);
    }
    throw new ApiException(400, "json: cannot unmarshal " + kind(decoded) + " into Go value of type "
        + goPackage + "." + struct);
  }

  /**
   * Decodes a request body like gin's ShouldBindJSON: blank is Ollama's "missing request body"
   * (callers that say "EOF" instead catch that case first), bad JSON gives Go's syntax message.
   */
  static GoFields bind(byte[] body, String goPackage, String struct) {
    if (GoJson.isBlank(body)) {
      throw new ApiException(400, "missing request body");
    }
    try {
      return of(GoJson.parse(body), goPackage, struct);
    } catch (GoScanner.SyntaxError e) {
      throw new ApiException(400, e.getMessage());
    }
  }

  /** The raw value under {@code field}, null when absent or JSON null. */
  Object raw(String field) {
    Object v = map.get(field);
    if (v != null || map.containsKey(field)) {
      return v;
    }
    for (Map.Entry<String, Object> e : map.entrySet()) {
      if (e.getKey().equalsIgnoreCase(field)) {
        return e.getValue();
      }
    }
    return null;
  }

  boolean has(String field) {
    return raw(field) != null;
  }

  String string(String field) {
    Object v = raw(field);
    if (v == null) {
      return "";
    }
    if (v instanceof String s) {
      return s;
    }
    throw mismatch(v, field, "string");
  }

  /** A {@code *bool}: null when absent. */
  Boolean optBool(String field) {
    Object v = raw(field);
    if (v == null) {
      return null;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw mismatch(v, field, "bool");
  }

  boolean bool(String field) {
    Boolean b = optBool(field);
    return b != null && b;
  }

  /** A Go {@code int}; {@code *int} callers use {@link #has} first. */
  long integer(String field) {
    Object v = raw(field);
    if (v == null) {
      return 0;
    }
    return toInt(v, field);
  }

  /** A {@code float64} field. */
  double decimal(String field) {
    Object v = raw(field);
    if (v == null) {
      return 0;
    }
    if (v instanceof GoJson.Num n) {
      return n.doubleValue();
    }
    throw mismatch(v, field, "float64");
  }

  private long toInt(Object v, String field) {
    if (v instanceof GoJson.Num n) {
      Long l = n.exactLong();
      // Go's int is 64-bit; like strconv.ParseInt it refuses fractions and exponents.
      if (l == null) {
        throw new ApiException(400, "json: cannot unmarshal number " + n.text() + " into Go struct field "
            + struct + "." + path + field + " of type int");
      }
      return l;
    }
    throw mismatch(v, field, "int");
  }

  /** A JSON array, each element checked by the caller. */
  @SuppressWarnings("unchecked")
  List<Object> list(String field, String goType) {
    Object v = raw(field);
    if (v == null) {
      return null;
    }
    if (v instanceof List<?> l) {
      return (List<Object>) l;
    }
    throw mismatch(v, field, goType);
  }

  /** A {@code []int} such as generate's {@code context}. */
  int intListSize(String field) {
    List<Object> l = list(field, "[]int");
    if (l == null) {
      return 0;
    }
    for (Object e : l) {
      if (e != null) {
        toInt(e, field);
      }
    }
    return l.size();
  }

  /** A {@code []string}-like field (images are base64 strings). */
  int stringListSize(String field, String goType, String elemType) {
    List<Object> l = list(field, goType);
    if (l == null) {
      return 0;
    }
    for (Object e : l) {
      if (e != null && !(e instanceof String)) {
        throw mismatch(e, field, elemType);
      }
    }
    return l.size();
  }

  /** A {@code map[string]any} such as {@code options}. */
  Map<String, Object> object(String field) {
    return object(field, "map[string]interface {}");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> object(String field, String goType) {
    Object v = raw(field);
    if (v == null) {
      return null;
    }
    if (v instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw mismatch(v, field, goType);
  }

  /** A {@code map[string]string} such as create's {@code files}. */
  Map<String, Object> stringMap(String field) {
    Map<String, Object> m = object(field, "map[string]string");
    if (m != null) {
      for (Object v : m.values()) {
        if (v != null && !(v instanceof String)) {
          throw mismatch(v, field, "string");
        }
      }
    }
    return m;
  }

  /** A slice of structs such as {@code messages}; elements read with the nested field path. */
  @SuppressWarnings("unchecked")
  List<GoFields> structs(String field, String goType, String elemType) {
    List<Object> l = list(field, goType);
    List<GoFields> out = new ArrayList<>(l == null ? 0 : l.size());
    if (l == null) {
      return out;
    }
    for (Object e : l) {
      if (e == null) {
        out.add(new GoFields(struct, path + field + ".", Map.of()));
      } else if (e instanceof Map<?, ?> m) {
        out.add(new GoFields(struct, path + field + ".", (Map<String, Object>) m));
      } else {
        throw mismatch(e, field, elemType);
      }
    }
    return out;
  }

  /** {@code keep_alive} (*api.Duration). */
  Long keepAlive() {
    return KeepAlive.fromJson(raw("keep_alive"));
  }

  /** {@code think} (*api.ThinkValue): true, false, or a level. */
  Object think() {
    Object v = raw("think");
    if (v == null || v instanceof Boolean) {
      return v;
    }
    if (v instanceof String s) {
      if (!s.equals("high") && !s.equals("medium") && !s.equals("low") && !s.equals("max")) {
        throw new ApiException(400, "invalid think value: " + GoText.quote(s)
            + " (must be \"high\", \"medium\", \"low\", \"max\", true, or false)");
      }
      return s;
    }
    throw new ApiException(400, "think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or false)");
  }

  private ApiException mismatch(Object v, String field, String goType) {
    return new ApiException(400, "json: cannot unmarshal " + kind(v) + " into Go struct field "
        + struct + "." + path + field + " of type " + goType);
  }

  static String kind(Object v) {
    if (v instanceof String) {
      return "string";
    }
    if (v instanceof GoJson.Num) {
      return "number";
    }
    if (v instanceof Boolean) {
      return "bool";
    }
    if (v instanceof Map) {
      return "object";
    }
    return "array";
  }
}
