package io.hivemesh.sim;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Ollama's two request filters: CORS (a browser Origin that is not allowed gets 403) and, while
 * bound to loopback, the DNS-rebinding guard (a non-local {@code Host} gets 403). Gateways that
 * forward the client's Host to a local Ollama trip the second one, so the sim enforces both.
 */
final class HostGuard {

  private static final List<String> ORIGIN_PREFIXES = List.of("app://", "file://", "tauri://", "vscode-webview://",
      "vscode-file://", "chrome-extension://", "safari-extension://", "moz-extension://", "ms-browser-extension://");
  private static final String ALLOWED_HEADERS = "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,"
      + "OpenAI-Beta,x-stainless-arch,x-stainless-async,x-stainless-custom-poll-interval,x-stainless-helper-method,"
      + "x-stainless-lang,x-stainless-os,x-stainless-package-version,x-stainless-poll-helper,"
      + "x-stainless-retry-count,x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout";

  private final boolean loopbackOnly;
  private final String hostname;
  private final Set<String> localAddresses;

  private HostGuard(boolean loopbackOnly, String hostname, Set<String> localAddresses) {
    this.loopbackOnly = loopbackOnly;
    this.hostname = hostname;
    this.localAddresses = localAddresses;
  }

  /** This machine's name and addresses, looked up once per JVM: a slow resolver costs one start only. */
  private record LocalNames(String hostname, Set<String> addresses) {
  }

  private static volatile LocalNames localNames;

  /** Looks up the machine's name and addresses: blocking, so callers run it off the event loop. */
  static HostGuard discover(String bindHost) {
    boolean loopback;
    try {
      loopback = InetAddress.getByName(bindHost).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    LocalNames names = localNames;
    if (names == null) {
      names = lookUpLocalNames();
      localNames = names;
    }
    return new HostGuard(loopback, names.hostname(), names.addresses());
  }

  private static LocalNames lookUpLocalNames() {
    String name = "";
    try {
      name = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
    } catch (UnknownHostException e) {
      // No name: only the other local names are accepted.
    }
    Set<String> addresses = new HashSet<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          addresses.add(a.getHostAddress().replaceAll("%.*$", ""));
        }
      }
    } catch (SocketException e) {
      // No interface list: loopback and private ranges still pass.
    }
    return new LocalNames(name, Set.copyOf(addresses));
  }

  /** True when the request may proceed; otherwise the response (403, or 204 for a preflight) is sent. */
  boolean admit(HttpServerRequest req) {
    String host = req.getHeader("Host");
    host = host == null ? "" : host;
    String origin = req.getHeader("Origin");
    HttpServerResponse resp = req.response();
    if (origin != null && !origin.isEmpty() && !origin.equals("http://" + host) && !origin.equals("https://" + host)) {
      if (!originAllowed(origin)) {
        SimResponses.empty(req, 403);
        return false;
      }
      resp.putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
      if (req.method() == HttpMethod.OPTIONS) {
        resp.putHeader("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS")
            .putHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            .putHeader("Access-Control-Max-Age", "43200");
        SimResponses.empty(req, 204);
        return false;
      }
    }
    if (!loopbackOnly) {
      return true;
    }
    String name = stripPort(host).toLowerCase(Locale.ROOT);
    if (isIpLiteral(name)) {
      if (ipAllowed(name)) {
        return true;
      }
    } else if (hostAllowed(name)) {
      if (req.method() == HttpMethod.OPTIONS) {
        SimResponses.empty(req, 204);
        return false;
      }
      return true;
    }
    SimResponses.empty(req, 403);
    return false;
  }

  private static boolean originAllowed(String origin) {
    for (String local : new String[] {"localhost", "127.0.0.1", "0.0.0.0"}) {
      for (String scheme : new String[] {"http://", "https://"}) {
        String base = scheme + local;
        if (origin.equals(base) || (origin.startsWith(base + ":") && origin.length() > base.length() + 1)) {
          return true;
        }
      }
    }
    for (String prefix : ORIGIN_PREFIXES) {
      if (origin.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private boolean hostAllowed(String host) {
    return host.isEmpty() || host.equals("localhost") || host.equals(hostname) || host.endsWith(".localhost")
        || host.endsWith(".local") || host.endsWith(".internal");
  }

  /** Loopback, private, unspecified, or an address of this machine. */
  private boolean ipAllowed(String ip) {
    String bare = ip.startsWith("[") ? ip.substring(1, ip.length() - 1) : ip;
    if (localAddresses.contains(bare)) {
      return true;
    }
    try {
      InetAddress a = InetAddress.getByName(bare);
      byte[] b = a.getAddress();
      boolean uniqueLocal = b.length == 16 && (b[0] & 0xfe) == 0xfc;
      return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress() || uniqueLocal;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** An IPv6 literal (only those contain colons once the port is gone) or a strict dotted quad. */
  private static boolean isIpLiteral(String host) {
    if (host.startsWith("[") || host.indexOf(':') >= 0) {
      return true;
    }
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9') || Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  private static String stripPort(String host) {
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end < 0 ? host : host.substring(0, end + 1);
    }
    int colon = host.lastIndexOf(':');
    return colon >= 0 && host.indexOf(':') == colon ? host.substring(0, colon) : host;
  }
}
