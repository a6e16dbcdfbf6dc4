package io.hivemesh.sim;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The route table, matched like Ollama's gin router: exact paths plus one-segment parameters,
 * 405 with an {@code Allow} header when only the method is wrong, and a redirect for a stray
 * trailing slash (301 for GET, 307 otherwise).
 */
final class SimRoutes {

  /** A route handler; {@code body} is the whole request body for routes that read one. */
  interface Handler {
    void handle(HttpServerRequest req, String param, byte[] body);
  }

  /** One method on one path. */
  record Route(Handler handler, boolean readsBody, ErrorStyle errors) {
  }

  /** What a request path and method resolve to. */
  record Match(Kind kind, Route route, String param, String allow, String location) {
  }

  enum Kind { FOUND, NOT_FOUND, METHOD_NOT_ALLOWED, REDIRECT }

  private static final List<HttpMethod> ALLOW_ORDER = List.of(HttpMethod.HEAD, HttpMethod.GET, HttpMethod.POST,
      HttpMethod.DELETE);

  private final Map<String, Map<HttpMethod, Route>> exact = new HashMap<>();
  /** Routes ending in a parameter, keyed by the prefix before it ("/api/blobs/"). */
  private final Map<String, Map<HttpMethod, Route>> withParam = new LinkedHashMap<>();

  SimRoutes add(HttpMethod method, String path, ErrorStyle errors, Handler handler) {
    boolean body = method == HttpMethod.POST || method == HttpMethod.DELETE;
    int colon = path.indexOf("/:");
    Map<String, Map<HttpMethod, Route>> table = colon < 0 ? exact : withParam;
    String key = colon < 0 ? path : path.substring(0, colon + 1);
    table.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(method, new Route(handler, body, errors));
    return this;
  }

  /** Replaces a route's body handling: blob uploads stream and are never buffered. */
  SimRoutes streaming(HttpMethod method, String path) {
    int colon = path.indexOf("/:");
    Map<String, Map<HttpMethod, Route>> table = colon < 0 ? exact : withParam;
    String key = colon < 0 ? path : path.substring(0, colon + 1);
    Route r = table.get(key).get(method);
    table.get(key).put(method, new Route(r.handler(), false, r.errors()));
    return this;
  }

  Match match(HttpMethod method, String path) {
    String[] param = new String[1];
    Map<HttpMethod, Route> routes = lookup(path, param);
    if (routes != null) {
      Route r = routes.get(method);
      if (r != null) {
        return new Match(Kind.FOUND, r, param[0], null, null);
      }
    }
    if (path.length() > 1) {
      String other = path.endsWith("/") ? path.substring(0, path.length() - 1) : path + "/";
      Map<HttpMethod, Route> alt = lookup(other, new String[1]);
      if (alt != null && alt.containsKey(method)) {
        return new Match(Kind.REDIRECT, null, null, null, other);
      }
    }
    if (routes != null) {
      List<String> allowed = new ArrayList<>();
      for (HttpMethod m : ALLOW_ORDER) {
        if (routes.containsKey(m)) {
          allowed.add(m.name());
        }
      }
      return new Match(Kind.METHOD_NOT_ALLOWED, null, null, String.join(", ", allowed), null);
    }
    return new Match(Kind.NOT_FOUND, null, null, null, null);
  }

  private Map<HttpMethod, Route> lookup(String path, String[] param) {
    Map<HttpMethod, Route> r = exact.get(path);
    if (r != null) {
      return r;
    }
    for (Map.Entry<String, Map<HttpMethod, Route>> e : withParam.entrySet()) {
      String prefix = e.getKey();
      if (path.startsWith(prefix) && path.length() > prefix.length() && path.indexOf('/', prefix.length()) < 0) {
        param[0] = path.substring(prefix.length());
        return e.getValue();
      }
    }
    return null;
  }
}
