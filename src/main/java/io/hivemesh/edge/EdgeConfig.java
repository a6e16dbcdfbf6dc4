package io.hivemesh.edge;

import io.hivemesh.NodeConfig;
import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code hive edge} needs, validated: where to dial, how to prove who it is, and the part of
 * a node's settings that concern its own Ollama ({@link #site}, handed to the same backend and
 * inventory poller a node runs).
 *
 * @param site       the site's own settings: name, Ollama URL, limits and timeouts
 * @param connect    node addresses ({@code wss://HOST:PORT} or {@code ws://}), tried in turn
 * @param token      bearer token with the {@code edge} scope; empty for a node under --insecure-no-auth
 * @param meshCa     CA the nodes' client-port certificates are checked against; null: the system trust store
 * @param reconnectMax longest wait between two connection attempts
 */
public record EdgeConfig(NodeConfig site, List<URI> connect, String token, Path meshCa, Duration reconnectMax) {

  /** The node options an edge shares: everything about its own Ollama. */
  private static final List<String> SITE_OPTIONS = List.of("name", "ollama", "parallel", "max-inflight",
      "max-queue-per-model", "connect-timeout", "first-byte-timeout", "stream-idle-timeout", "inventory-interval");

  public static final List<OptionSpec> OPTIONS = options();

  private static List<OptionSpec> options() {
    List<OptionSpec> out = new ArrayList<>();
    out.add(OptionSpec.of("config", null, "YAML file with option: value lines"));
    for (OptionSpec spec : NodeConfig.OPTIONS) {
      if (SITE_OPTIONS.contains(spec.name())) {
        out.add(spec);
      }
    }
    out.add(OptionSpec.required("connect", "nodes to dial, wss://HOST:PORT[,wss://...] (ws:// without TLS), tried in turn"));
    out.add(OptionSpec.of("token", "", "JWT with the 'edge' scope (empty only for nodes run with --insecure-no-auth)"));
    out.add(OptionSpec.of("mesh-ca", "", "PEM CA the nodes' certificates are checked against (default: the system trust store)"));
    out.add(OptionSpec.of("reconnect-max", "10s", "longest wait between two attempts to reach a node"));
    return List.copyOf(out);
  }

  public static EdgeConfig parse(String[] args, Map<String, String> env) {
    Settings s = Settings.resolve(OPTIONS, args, env);
    List<String> siteArgs = new ArrayList<>();
    for (String option : SITE_OPTIONS) {
      siteArgs.add("--" + option);
      siteArgs.add(s.string(option));
    }
    // An edge serves no clients of its own (the node it dials checks theirs): no keys to verify tokens with.
    siteArgs.add("--insecure-no-auth");
    NodeConfig site = NodeConfig.parse(siteArgs.toArray(String[]::new), Map.of());
    List<URI> connect = new ArrayList<>();
    for (String address : s.list("connect")) {
      URI uri;
      try {
        uri = URI.create(address);
      } catch (IllegalArgumentException e) {
        uri = null;
      }
      if (uri == null || !("wss".equals(uri.getScheme()) || "ws".equals(uri.getScheme())) || uri.getHost() == null
          || uri.getPort() <= 0) {
        throw new ConfigException("--connect: expected wss://HOST:PORT or ws://HOST:PORT entries separated by commas,"
            + " got '" + address + "'");
      }
      connect.add(uri);
    }
    if (connect.isEmpty()) {
      throw new ConfigException("--connect: give at least one node address, wss://HOST:PORT");
    }
    Duration reconnectMax = s.duration("reconnect-max");
    if (reconnectMax.isZero()) {
      throw new ConfigException("--reconnect-max: must be greater than zero");
    }
    return new EdgeConfig(site, List.copyOf(connect), s.stringOr("token", ""), s.path("mesh-ca"), reconnectMax);
  }
}
