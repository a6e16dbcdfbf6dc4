package io.hivemesh;

import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.hivemesh.routing.Strategies;
import io.hivemesh.security.AuthConfig;
import io.hivemesh.security.Limits;
import io.hivemesh.security.TlsConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Everything a node needs to run, validated. Built only through {@link #parse}, so the command
 * line, the config file, the environment and the tests all go through the same checks.
 */
public record NodeConfig(
    String name,
    String host,
    int port,
    URI ollama,
    String clusterName,
    String clusterHost,
    int clusterPort,
    int busPort,
    List<String> join,
    String clusterConfig,
    String strategy,
    int parallel,
    int maxLoadedModels,
    int maxInflight,
    int maxRequests,
    int maxAttempts,
    int eventLoops,
    String transport,
    long bodyLimit,
    Duration connectTimeout,
    Duration firstByteTimeout,
    Duration streamIdleTimeout,
    Duration inventoryInterval,
    Duration publishInterval,
    Duration entryTtl,
    AuthConfig auth,
    TlsConfig tls,
    boolean plaintextMeshAllowed,
    Duration drainTimeout,
    int maxQueuePerModel,
    int maxConnections,
    Duration headerTimeout,
    Duration bodyTimeout,
    Duration keepAliveTimeout,
    int maxHeaderSize,
    int maxInitialLine,
    long maxBodyBuffer,
    String logFormat,
    boolean accessLog,
    boolean metricsNeedAdmin,
    int metricsMaxSubjects,
    boolean vertxHttpMetrics) {

  public static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("config", null, "YAML file with option: value lines"),
      OptionSpec.required("name", "unique name of this site in the mesh"),
      OptionSpec.of("host", "127.0.0.1", "address the Ollama-compatible HTTP port binds to"),
      OptionSpec.of("port", "11434", "HTTP port clients use (0: any free port)"),
      OptionSpec.of("ollama", "http://127.0.0.1:11435", "URL of this site's Ollama"),
      OptionSpec.of("ollama-ca", "", "PEM certificate(s) of the CA an https --ollama is verified against (default: the JVM's trusted CAs)"),
      OptionSpec.of("cluster-name", "hive", "mesh name; nodes with another name never join"),
      OptionSpec.of("cluster-host", "127.0.0.1", "address peers reach this node at (Hazelcast and event bus)"),
      OptionSpec.of("cluster-port", "5701", "Hazelcast member port"),
      OptionSpec.of("bus-port", "5801", "event bus port (0: any free port)"),
      OptionSpec.of("join", "", "seed members HOST:PORT,... (Hazelcast ports of other nodes)"),
      OptionSpec.of("cluster-config", "", "Hazelcast XML config (default: ./cluster.xml, else the bundled one)"),
      OptionSpec.of("strategy", Strategies.DEFAULT, "routing strategy: " + String.join(", ", Strategies.NAMES)),
      OptionSpec.of("parallel", "1", "requests this site's Ollama serves at once per loaded model (OLLAMA_NUM_PARALLEL)"),
      OptionSpec.of("max-loaded-models", "3", "models this site's Ollama keeps loaded at once (OLLAMA_MAX_LOADED_MODELS; 0: unknown)"),
      OptionSpec.of("max-inflight", "512", "requests this site accepts for its Ollama at once (OLLAMA_MAX_QUEUE)"),
      OptionSpec.of("max-queue-per-model", "256",
          "requests this site accepts at once for any one model, running or waiting (at most max-inflight)"),
      OptionSpec.of("max-requests", "4096", "client requests this node handles at once; more get 503"),
      OptionSpec.of("max-connections", "16384", "open client connections; more are closed at once"),
      OptionSpec.of("header-timeout", "10s", "time a new connection has to send a request's headers (then closed)"),
      OptionSpec.of("body-timeout", "60s", "time to receive a request body once its headers arrived (408 beyond)"),
      OptionSpec.of("keep-alive-timeout", "60s",
          "time an idle kept-alive connection has to send its next request's headers (then closed)"),
      OptionSpec.of("max-header-size", "16k", "largest request header block (431 beyond)"),
      OptionSpec.of("max-initial-line", "8k", "longest request line, method and URI (414 beyond)"),
      OptionSpec.of("max-body-buffer", "1g", "request body bytes the node holds at once across all requests (503 beyond)"),
      OptionSpec.of("max-attempts", "3", "sites tried for one request before giving up"),
      OptionSpec.of("event-loops", String.valueOf(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()))),
          "event loops serving HTTP and the bus"),
      OptionSpec.of("transport", NetworkTransport.AUTO,
          "socket I/O: auto (io_uring where the kernel allows it, else epoll, else Java NIO), io_uring, epoll or nio"),
      OptionSpec.of("body-limit", "64m", "largest request body accepted (413 beyond)"),
      OptionSpec.of("connect-timeout", "500ms", "connecting to an Ollama or a peer"),
      OptionSpec.of("first-byte-timeout", "10m", "waiting for an answer to start (covers a cold model load)"),
      OptionSpec.of("stream-idle-timeout", "2m", "silence allowed inside a streaming answer"),
      OptionSpec.of("inventory-interval", "1s", "how often the local Ollama's models are polled (and 100 ms after a request for a model it has not loaded)"),
      OptionSpec.of("publish-interval", "250ms", "how often this node writes its load entry to the cluster if it changed (unchanged, it is rewritten every third of entry-ttl)"),
      OptionSpec.of("entry-ttl", "3s", "lifetime of a load entry that is not refreshed"),
      OptionSpec.of("jwt-secret-file", "", "file holding the HS256 secret client tokens are signed with"),
      OptionSpec.of("jwt-public-key", "", "PEM public key(s) (RS256/ES256) client tokens are signed with, FILE[,FILE...]"),
      OptionSpec.of("jwks", "", "JSON Web Key Set file with the public keys of an identity provider"),
      OptionSpec.of("jwt-issuer", "", "required iss claim of client tokens"),
      OptionSpec.of("jwt-audience", "", "required aud claim of client tokens"),
      OptionSpec.of("jwt-leeway", "30s", "clock skew allowed when checking exp, iat and nbf"),
      OptionSpec.flag("insecure-no-auth", "accept every request without a token (local experiments only)"),
      OptionSpec.of("limit-rpm", "0", "requests per minute per subject, mesh-wide, for tokens that set none (0: no limit)"),
      OptionSpec.of("limit-concurrent", "0", "requests in flight per subject, mesh-wide, for tokens that set none (0: no limit)"),
      OptionSpec.of("tls-cert", "", "PEM certificate (chain) of the client port; with --tls-key it speaks HTTPS"),
      OptionSpec.of("tls-key", "", "PEM private key of the client port"),
      OptionSpec.of("mesh-ca", "", "PEM certificate of the mesh CA: only nodes it signed can join"),
      OptionSpec.of("mesh-cert", "", "PEM certificate of this node, signed by the mesh CA"),
      OptionSpec.of("mesh-key", "", "PEM private key of this node"),
      OptionSpec.flag("insecure-plaintext-mesh", "allow a mesh without TLS on a non-loopback --cluster-host"),
      OptionSpec.of("drain-timeout", "30s", "on SIGTERM or POST /hive/drain: how long in-flight requests may take to finish"),
      OptionSpec.of("log-format", "text", "log lines as text, or json: one JSON object a line"),
      OptionSpec.of("access-log", "true", "one log line per client request (never its content)"),
      OptionSpec.of("metrics-auth", "none", "GET /metrics needs: none (any scraper), or admin (a token with the admin scope)"),
      OptionSpec.of("metrics-max-subjects", "100", "token subjects labelled by name in /metrics; the rest count as 'other'"),
      OptionSpec.of("metrics-vertx-http", "false", "also Vert.x's own per-request HTTP meters (vertx_http_*): they cost on every request"));

  public static NodeConfig parse(String[] args, Map<String, String> env) {
    return from(Settings.resolve(OPTIONS, args, env));
  }

  /** Validates resolved options: every check a node makes at start, also run by {@code hive config check}. */
  public static NodeConfig from(Settings s) {
    String name = s.string("name");
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
      throw new ConfigException("--name: expected letters, digits, '.', '_' or '-' (at most 63), got '" + name + "'");
    }
    NodeConfig config = new NodeConfig(
        name,
        s.string("host"),
        s.port("port", true),
        s.httpUrl("ollama"),
        s.string("cluster-name"),
        s.string("cluster-host"),
        s.port("cluster-port", false),
        s.port("bus-port", true),
        s.hostPorts("join"),
        s.stringOr("cluster-config", null),
        s.choice("strategy", Strategies.NAMES),
        s.integer("parallel", 1, 1024),
        s.integer("max-loaded-models", 0, 1024),
        s.integer("max-inflight", 1, 1_000_000),
        s.integer("max-requests", 1, 1_000_000),
        s.integer("max-attempts", 1, 16),
        s.integer("event-loops", 1, 64),
        s.choice("transport", NetworkTransport.NAMES),
        s.bytes("body-limit"),
        s.duration("connect-timeout"),
        s.duration("first-byte-timeout"),
        s.duration("stream-idle-timeout"),
        s.duration("inventory-interval"),
        s.duration("publish-interval"),
        s.duration("entry-ttl"),
        AuthConfig.of(s.path("jwt-secret-file"), s.paths("jwt-public-key"), s.path("jwks"),
            s.stringOr("jwt-issuer", null), s.stringOr("jwt-audience", null), s.duration("jwt-leeway"),
            s.bool("insecure-no-auth"),
            new Limits(s.integer("limit-rpm", 0, 10_000_000), s.integer("limit-concurrent", 0, 1_000_000))),
        TlsConfig.of(s.path("tls-cert"), s.path("tls-key"), s.path("mesh-ca"), s.path("mesh-cert"), s.path("mesh-key"),
            s.path("ollama-ca")),
        s.bool("insecure-plaintext-mesh"),
        s.duration("drain-timeout"),
        s.integer("max-queue-per-model", 1, 1_000_000),
        s.integer("max-connections", 1, 10_000_000),
        s.duration("header-timeout"),
        s.duration("body-timeout"),
        s.duration("keep-alive-timeout"),
        (int) Math.min(Integer.MAX_VALUE, s.bytes("max-header-size")),
        (int) Math.min(Integer.MAX_VALUE, s.bytes("max-initial-line")),
        s.bytes("max-body-buffer"),
        s.choice("log-format", List.of("text", "json")),
        s.bool("access-log"),
        s.choice("metrics-auth", List.of("none", "admin")).equals("admin"),
        s.integer("metrics-max-subjects", 0, 100_000),
        s.bool("metrics-vertx-http"));
    if (!config.tls.meshTls() && !config.plaintextMeshAllowed && !isLoopback(config.clusterHost)) {
      throw new ConfigException("--cluster-host " + config.clusterHost + " is reachable from other hosts: give"
          + " --mesh-ca, --mesh-cert and --mesh-key so the mesh runs inside TLS (or --insecure-plaintext-mesh)");
    }
    if (config.tls.ollamaCa() != null && !"https".equals(config.ollama.getScheme())) {
      throw new ConfigException("--ollama-ca: only for an https --ollama, got " + config.ollama);
    }
    if (config.entryTtl.compareTo(config.publishInterval.multipliedBy(2)) < 0) {
      throw new ConfigException("--entry-ttl: must be at least twice --publish-interval ("
          + config.publishInterval.toMillis() + "ms), got " + config.entryTtl.toMillis() + "ms");
    }
    if (config.maxBodyBuffer < config.bodyLimit) {
      throw new ConfigException("--max-body-buffer: must be at least --body-limit (" + config.bodyLimit
          + " bytes), or no body of the largest allowed size could ever be received; got " + config.maxBodyBuffer);
    }
    for (String field : List.of("connect-timeout", "first-byte-timeout", "stream-idle-timeout",
        "inventory-interval", "publish-interval", "entry-ttl", "header-timeout", "body-timeout",
        "keep-alive-timeout")) {
      if (s.duration(field).isZero()) {
        throw new ConfigException("--" + field + ": must be greater than zero");
      }
    }
    return config;
  }

  /** Whether an address is reachable from this host only. */
  public static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }
}
