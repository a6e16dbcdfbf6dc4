package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * What can be checked of the container files without a Docker engine or a cluster: they parse, and
 * every option, environment variable, port, mounted path and probe they name is one the node has.
 */
class DeploymentFilesTest {

  /**
   * Endpoints the probes and health checks may use: liveness and readiness, served without a token
   * (added with the metrics and health work of the same issue, see docs/api.md).
   */
  private static final Set<String> PROBE_ENDPOINTS = Set.of("/hive/health", "/hive/ready");
  private static final Path DOCKER = Path.of("docker");
  private static final Pattern POD_NAME = Pattern.compile("\\$\\(POD_NAME\\)");

  private static final Map<String, OptionSpec> BY_ENV = NodeConfig.OPTIONS.stream()
      .collect(Collectors.toMap(OptionSpec::envName, s -> s));
  private static final Set<String> FLAGS = NodeConfig.OPTIONS.stream().map(s -> "--" + s.name())
      .collect(Collectors.toSet());

  // ---- Dockerfile ----

  /** The image's instructions, continuation lines joined. */
  private static List<String> dockerfile() throws IOException {
    String text = Files.readString(DOCKER.resolve("Dockerfile")).replaceAll("\\\\\\s*\\n", " ");
    return text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
  }

  private static Map<String, String> imageEnv() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : dockerfile()) {
      if (line.startsWith("ENV ")) {
        Matcher m = Pattern.compile("(\\w+)=(\\S+)").matcher(line.substring(4));
        while (m.find()) {
          env.put(m.group(1), m.group(2));
        }
      }
    }
    return env;
  }

  @Test
  void dockerfileBuildsInOneStageRunsInAnotherAsNoRootAndChecksHealth() throws IOException {
    List<String> lines = dockerfile();
    List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertEquals(2, from.size(), "a build stage and a runtime stage");
    assertTrue(from.get(0).matches("FROM maven:\\S+ AS build"), from.get(0));
    assertTrue(from.get(1).matches("FROM eclipse-temurin:17-jre"), from.get(1));
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("COPY --from=build ") && l.contains("target/hive.jar")));
    String user = lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow().substring(5);
    assertFalse(user.startsWith("root") || user.startsWith("0"), "runs as " + user);

    for (String name : imageEnv().keySet()) {
      assertTrue(BY_ENV.containsKey(name), "Dockerfile ENV " + name + " is no node option");
    }
    assertEquals(List.of("--config", "/opt/hive/hive.yaml"), imageArgs());
    Settings image = Settings.resolve(NodeConfig.OPTIONS, localArgs(imageArgs(), null), imageEnv());
    Set<Integer> expose = lines.stream().filter(l -> l.startsWith("EXPOSE ")).flatMap(l -> Stream.of(l.substring(7)
        .trim().split("\\s+"))).map(Integer::valueOf).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(new TreeSet<>(Set.of(image.port("port", false), image.port("cluster-port", false),
        image.port("bus-port", false))), expose, "EXPOSE: the client, cluster and bus ports the image's config gives");

    String health = lines.stream().filter(l -> l.startsWith("HEALTHCHECK ")).findFirst().orElseThrow();
    List<String> urls = Pattern.compile("https?://127\\.0\\.0\\.1:\\$\\{HIVE_PORT}(/\\S*?)\"").matcher(health).results()
        .map(r -> r.group(1)).toList();
    assertFalse(urls.isEmpty(), health);
    assertEquals(Set.of("/hive/health"), Set.copyOf(urls));
    assertTrue(imageEnv().containsKey("HIVE_PORT"), "the health check's ${HIVE_PORT} is set in the image");

    String entry = lines.stream().filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
    assertTrue(entry.endsWith("\"-jar\", \"/opt/hive/hive.jar\", \"node\"]"), entry);
  }

  /** The image's default arguments (CMD), a JSON array. */
  private static List<String> imageArgs() throws IOException {
    String cmd = dockerfile().stream().filter(l -> l.startsWith("CMD ")).findFirst().orElseThrow().substring(4);
    return new JsonArray(cmd).stream().map(String::valueOf).toList();
  }

  /**
   * Arguments as the node sees them in this checkout: the image's config file is a copy of
   * conf/hive.yaml; a --config that names a path of a mount is given {@code local} instead.
   */
  private static String[] localArgs(List<String> args, String local) throws IOException {
    List<String> out = new ArrayList<>(args);
    int i = out.indexOf("--config");
    if (i >= 0) {
      String path = out.get(i + 1);
      if (path.equals("/opt/hive/hive.yaml")) {
        assertTrue(dockerfile().stream().anyMatch(l -> l.matches("COPY .*conf/hive\\.yaml /opt/hive/")));
        out.set(i + 1, "conf/hive.yaml");
      } else {
        out.set(i + 1, local);
      }
    }
    return out.toArray(String[]::new);
  }

  /** The values of every path option that is set (lists split), wherever they came from. */
  private static List<String> pathValues(Settings node) {
    List<String> out = new ArrayList<>();
    for (OptionSpec spec : NodeConfig.OPTIONS) {
      if (!spec.flag() && !spec.name().equals("config") && node.has(spec.name())) {
        node.list(spec.name()).stream().filter(v -> v.startsWith("/")).forEach(out::add);
      }
    }
    return out;
  }

  // ---- compose ----

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String what) {
    assertTrue(o instanceof Map, what + " is a map");
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o, String what) {
    assertTrue(o instanceof List, what + " is a list");
    return (List<Object>) o;
  }

  private static Map<String, String> strings(Object o, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (o instanceof List<?> entries) {
      for (Object e : entries) {
        String s = String.valueOf(e);
        out.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
      }
    } else if (o != null) {
      map(o, what).forEach((k, v) -> out.put(k, String.valueOf(v)));
    }
    return out;
  }

  private static void assertOptionsOnly(Map<String, String> env, List<String> args, String where) {
    for (String name : env.keySet()) {
      if (name.startsWith("HIVE_")) {
        assertTrue(BY_ENV.containsKey(name), where + ": " + name + " is no node option's variable");
      }
    }
    for (String arg : args) {
      if (arg.startsWith("--")) {
        String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        assertTrue(FLAGS.contains(flag), where + ": " + flag + " is no node option");
      }
    }
  }

  @Test
  void composeNamesOnlyRealOptionsPortsAndMountedFiles() throws IOException {
    Map<String, Object> compose = map(new Yaml().load(Files.readString(DOCKER.resolve("compose.yaml"))), "compose.yaml");
    Map<String, Object> services = map(compose.get("services"), "services");
    Map<String, Object> secrets = map(compose.get("secrets"), "secrets");
    Map<String, String> imageEnv = imageEnv();
    Set<String> ollamas = new TreeSet<>();
    Map<String, Settings> nodes = new LinkedHashMap<>();
    List<String> published = new ArrayList<>();
    for (Map.Entry<String, Object> e : services.entrySet()) {
      Map<String, Object> service = map(e.getValue(), e.getKey());
      String image = String.valueOf(service.get("image"));
      if (image.startsWith("ollama/ollama")) {
        ollamas.add(e.getKey());
        assertEquals(null, service.get("ports"), e.getKey() + ": an Ollama publishes no port, it has no authentication");
        continue;
      }
      assertEquals("hive-mesh:latest", image, e.getKey());
      assertEquals("docker/Dockerfile", map(service.get("build"), "build").get("dockerfile"));
      Map<String, String> env = strings(service.get("environment"), e.getKey() + " environment");
      List<String> command = service.get("command") == null ? imageArgs()
          : list(service.get("command"), "command").stream().map(String::valueOf).toList();
      assertOptionsOnly(env, command, "compose " + e.getKey());

      Map<String, String> effective = new LinkedHashMap<>(imageEnv);
      effective.putAll(env);
      Settings node = Settings.resolve(NodeConfig.OPTIONS, localArgs(command, null), effective);
      nodes.put(e.getKey(), node);
      assertEquals(e.getKey(), node.string("name"), "each node is named as its service");
      assertEquals(e.getKey(), node.string("cluster-host"), "peers reach a node by its service name");
      assertEquals(e.getKey(), service.get("hostname"));

      // Every file a path option names is one of this service's secrets, mounted at /run/secrets/NAME.
      Set<String> mounted = list(service.get("secrets"), e.getKey() + " secrets").stream().map(String::valueOf)
          .collect(Collectors.toSet());
      for (String path : pathValues(node)) {
        assertTrue(path.startsWith("/run/secrets/"), e.getKey() + ": " + path + " is not a mounted secret");
        String secret = path.substring("/run/secrets/".length());
        assertTrue(mounted.contains(secret), e.getKey() + ": secret " + secret + " is not mounted in the service");
        assertTrue(secrets.containsKey(secret), "secret " + secret + " is not declared");
      }
      // `hive certs --nodes NAME` writes NAME.crt and NAME.key: the files the node's options name.
      for (String option : List.of("tls-cert", "mesh-cert")) {
        assertEquals("./secrets/" + node.string("name") + ".crt", secretFile(secrets, node.string(option)));
      }
      for (String option : List.of("tls-key", "mesh-key")) {
        assertEquals("./secrets/" + node.string("name") + ".key", secretFile(secrets, node.string(option)));
      }
      assertEquals("./secrets/ca.crt", secretFile(secrets, node.string("mesh-ca")));

      // Its Ollama is a service of the file, on Ollama's own port.
      String ollamaHost = node.httpUrl("ollama").getHost();
      assertTrue(services.containsKey(ollamaHost), e.getKey() + ": no service " + ollamaHost);
      assertEquals(11434, node.httpUrl("ollama").getPort());

      int clientPort = node.port("port", false);
      for (Object p : service.get("ports") == null ? List.of() : list(service.get("ports"), "ports")) {
        String[] parts = String.valueOf(p).split(":");
        assertEquals(clientPort, Integer.parseInt(parts[parts.length - 1].replace("/tcp", "")),
            e.getKey() + ": published container port is the node's client port");
        published.add(e.getKey());
      }
      Object health = service.get("healthcheck");
      if (health != null) {
        String test = String.valueOf(map(health, "healthcheck").get("test"));
        assertTrue(PROBE_ENDPOINTS.stream().anyMatch(test::contains), test);
      }
    }
    assertEquals(3, nodes.size(), "three sites");
    assertEquals(3, ollamas.size(), "an Ollama per site");
    assertEquals(1, published.size(), "one client port published: " + published);
    // Every node's join list names every node at its cluster port.
    for (Settings node : nodes.values()) {
      List<String> expected = new ArrayList<>();
      nodes.forEach((service, peer) -> expected.add(service + ":" + peer.port("cluster-port", false)));
      assertEquals(expected, node.hostPorts("join"));
      assertTrue(node.bool("insecure-plaintext-mesh") == false && node.has("mesh-ca"), "the mesh runs in TLS");
    }
  }

  private static String secretFile(Map<String, Object> secrets, String path) {
    String name = path.substring("/run/secrets/".length());
    return String.valueOf(map(secrets.get(name), "secret " + name).get("file"));
  }

  // ---- Kubernetes ----

  private static List<Map<String, Object>> manifests() throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Stream<Path> files = Files.list(DOCKER.resolve("k8s"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml().loadAll(Files.readString(file))) {
          if (doc != null) {
            Map<String, Object> m = map(doc, file.toString());
            assertNotNull(m.get("kind"), file + ": a document without kind");
            assertNotNull(m.get("apiVersion"), file + ": a document without apiVersion");
            docs.add(m);
          }
        }
      }
    }
    return docs;
  }

  private static Map<String, Object> only(List<Map<String, Object>> docs, String kind, String name) {
    List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind"))
        && (name == null || name.equals(map(d.get("metadata"), "metadata").get("name")))).toList();
    assertEquals(1, found.size(), kind + " " + name);
    return found.get(0);
  }

  private static Object at(Object node, String... path) {
    Object o = node;
    for (String step : path) {
      o = map(o, String.join(".", path)).get(step);
    }
    return o;
  }

  @Test
  void kubernetesManifestsAgreeWithTheNodeOptions(@TempDir Path dir) throws IOException {
    List<Map<String, Object>> docs = manifests();
    Map<String, Object> kustomization = only(docs, "Kustomization", null);
    for (Object resource : list(kustomization.get("resources"), "resources")) {
      assertTrue(Files.isRegularFile(DOCKER.resolve("k8s").resolve(String.valueOf(resource))), "resource " + resource);
    }
    Map<String, Set<String>> generatedSecrets = new LinkedHashMap<>();
    for (Object g : list(kustomization.get("secretGenerator"), "secretGenerator")) {
      Map<String, Object> gen = map(g, "secretGenerator entry");
      generatedSecrets.put(String.valueOf(gen.get("name")), list(gen.get("files"), "files").stream()
          .map(f -> Path.of(String.valueOf(f)).getFileName().toString()).collect(Collectors.toSet()));
      assertFalse(generatedSecrets.get(String.valueOf(gen.get("name"))).contains("ca.key"), "the CA key stays off the cluster");
    }

    Map<String, Object> sts = only(docs, "StatefulSet", "hive-mesh");
    Map<String, Object> spec = map(sts.get("spec"), "spec");
    int replicas = (Integer) spec.get("replicas");
    String serviceName = String.valueOf(spec.get("serviceName"));
    String stsName = String.valueOf(map(sts.get("metadata"), "metadata").get("name"));
    Map<String, Object> selector = map(at(spec, "selector", "matchLabels"), "selector");
    assertEquals(selector, at(spec, "template", "metadata", "labels"));
    Map<String, Object> pod = map(at(spec, "template", "spec"), "pod spec");
    Map<String, Object> hive = list(pod.get("containers"), "containers").stream().map(c -> map(c, "container"))
        .filter(c -> "hive".equals(c.get("name"))).findFirst().orElseThrow();
    Map<String, Object> ollama = list(pod.get("initContainers"), "initContainers").stream().map(c -> map(c, "container"))
        .filter(c -> "ollama".equals(c.get("name"))).findFirst().orElseThrow();
    assertEquals("Always", ollama.get("restartPolicy"), "Ollama is a native sidecar");
    assertTrue(String.valueOf(ollama.get("image")).startsWith("ollama/ollama"));
    for (Map<String, Object> c : List.of(hive, ollama)) {
      assertNotNull(at(c, "resources", "requests", "memory"), c.get("name") + " requests memory");
      assertNotNull(at(c, "resources", "limits", "memory"), c.get("name") + " has a memory limit");
    }

    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(hive.get("env"), "env")) {
      Map<String, Object> var = map(e, "env entry");
      if (var.get("value") != null) {
        env.put(String.valueOf(var.get("name")), String.valueOf(var.get("value")));
      }
    }
    List<String> args = hive.get("args") == null ? imageArgs()
        : list(hive.get("args"), "args").stream().map(String::valueOf).toList();
    assertOptionsOnly(env, args, "StatefulSet hive");

    // Mounted paths: every path option lies under a mount, and names a key its volume has.
    Map<String, String> mounts = new LinkedHashMap<>();
    for (Object m : list(hive.get("volumeMounts"), "volumeMounts")) {
      mounts.put(String.valueOf(map(m, "mount").get("mountPath")), String.valueOf(map(m, "mount").get("name")));
    }
    Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
    for (Object v : list(pod.get("volumes"), "volumes")) {
      volumes.put(String.valueOf(map(v, "volume").get("name")), map(v, "volume"));
    }
    Map<String, Object> configMap = only(docs, "ConfigMap", "hive-mesh-config");
    Map<String, Object> configData = map(configMap.get("data"), "data");
    Path configFile = dir.resolve("hive.yaml");
    for (int i = 0; i < replicas; i++) {
      String podName = stsName + "-" + i;
      Map<String, String> podEnv = new LinkedHashMap<>(imageEnv());
      env.forEach((k, v) -> podEnv.put(k, POD_NAME.matcher(v).replaceAll(podName)));
      // The pod's config file is the ConfigMap's, where the pod mounts it.
      String configPath = args.get(args.indexOf("--config") + 1);
      assertVolumeHas(configPath, mounts, volumes, generatedSecrets, configData);
      Files.writeString(configFile, String.valueOf(configData.get(Path.of(configPath).getFileName().toString())));
      Settings node = Settings.resolve(NodeConfig.OPTIONS, localArgs(args, configFile.toString()), podEnv);
      for (String path : pathValues(node)) {
        assertVolumeHas(path, mounts, volumes, generatedSecrets, configData);
      }
      assertEquals(podName, node.string("name"));
      assertEquals(podName + "." + serviceName, node.string("cluster-host"), "cluster-host: the pod's stable DNS name");
      List<String> join = new ArrayList<>();
      for (int j = 0; j < replicas; j++) {
        join.add(stsName + "-" + j + "." + serviceName + ":"
            + node.port("cluster-port", false));
      }
      assertEquals(join, node.hostPorts("join"), "join: every pod by its stable DNS name");
      assertEquals("127.0.0.1", node.httpUrl("ollama").getHost(), "the sidecar on the pod's loopback");
      assertEquals(node.httpUrl("ollama").getHost() + ":" + node.httpUrl("ollama").getPort(),
          strings(list(ollama.get("env"), "env").stream().map(o -> map(o, "env entry"))
              .collect(Collectors.toMap(m -> String.valueOf(m.get("name")), m -> String.valueOf(m.get("value")))),
              "ollama env").get("OLLAMA_HOST"), "the sidecar listens where the node looks for it");

      Map<String, Integer> ports = new LinkedHashMap<>();
      for (Object p : list(hive.get("ports"), "ports")) {
        ports.put(String.valueOf(map(p, "port").get("name")), (Integer) map(p, "port").get("containerPort"));
      }
      assertEquals(Map.of("client", node.port("port", false), "mesh", node.port("cluster-port", false),
          "bus", node.port("bus-port", false)), ports, "container ports are the node's configured ports");
    }

    // Probes: health for liveness and startup, ready for readiness, on the client port.
    assertEquals("/hive/health", at(hive, "livenessProbe", "httpGet", "path"));
    assertEquals("/hive/health", at(hive, "startupProbe", "httpGet", "path"));
    assertEquals("/hive/ready", at(hive, "readinessProbe", "httpGet", "path"));
    for (String probe : List.of("livenessProbe", "startupProbe", "readinessProbe")) {
      assertTrue(PROBE_ENDPOINTS.contains(String.valueOf(at(hive, probe, "httpGet", "path"))));
      assertEquals("client", at(hive, probe, "httpGet", "port"), probe);
      assertEquals("HTTPS", at(hive, probe, "httpGet", "scheme"), probe + ": the node's client port has tls-cert");
    }

    // Services: the headless one for discovery, a client one; their targets are container ports.
    Map<String, Object> peers = only(docs, "Service", serviceName);
    assertEquals("None", at(peers, "spec", "clusterIP"));
    assertEquals(Boolean.TRUE, at(peers, "spec", "publishNotReadyAddresses"), "nodes join before they are ready");
    Set<String> portNames = list(hive.get("ports"), "ports").stream().map(p -> String.valueOf(map(p, "p").get("name")))
        .collect(Collectors.toSet());
    List<Map<String, Object>> services = docs.stream().filter(d -> "Service".equals(d.get("kind"))).toList();
    assertEquals(2, services.size());
    for (Map<String, Object> service : services) {
      assertEquals(selector, at(service, "spec", "selector"));
      for (Object p : list(at(service, "spec", "ports"), "ports")) {
        assertTrue(portNames.contains(String.valueOf(map(p, "port").get("targetPort"))), "targetPort " + p);
      }
    }
    Map<String, Object> pdb = only(docs, "PodDisruptionBudget", null);
    assertEquals(selector, at(pdb, "spec", "selector", "matchLabels"));
    assertEquals(1, at(pdb, "spec", "maxUnavailable"));
  }

  /** {@code path} lies under a mount of the hive container whose volume has that file. */
  private static void assertVolumeHas(String path, Map<String, String> mounts, Map<String, Map<String, Object>> volumes,
                                      Map<String, Set<String>> generatedSecrets, Map<String, Object> configData) {
    String mountPath = mounts.keySet().stream().filter(mp -> path.startsWith(mp + "/")).findFirst()
        .orElseThrow(() -> new AssertionError(path + " is under no volume mount of the hive container"));
    String key = path.substring(mountPath.length() + 1);
    Map<String, Object> volume = volumes.get(mounts.get(mountPath));
    assertNotNull(volume, "volume " + mounts.get(mountPath));
    if (volume.get("secret") != null) {
      String secretName = String.valueOf(at(volume, "secret", "secretName"));
      assertTrue(generatedSecrets.getOrDefault(secretName, Set.of()).contains(key),
          path + ": secret " + secretName + " has no file " + key);
    } else {
      assertEquals("hive-mesh-config", at(volume, "configMap", "name"), path);
      assertTrue(configData.containsKey(key), path + ": the ConfigMap has no " + key);
    }
  }

  @Test
  void kubernetesConfigMapPassesConfigCheck(@TempDir Path dir) throws IOException {
    Map<String, Object> configMap = only(manifests(), "ConfigMap", "hive-mesh-config");
    Path file = dir.resolve("hive.yaml");
    Files.writeString(file, String.valueOf(map(configMap.get("data"), "data").get("hive.yaml")));
    CliRun r = CliRun.of("config", "check", file.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().endsWith(file + ": ok" + System.lineSeparator()), r.out());
    // And its values are the ones a node takes: nothing in it is silently ignored.
    Settings s = Settings.fromFile(NodeConfig.OPTIONS, Settings.readFile(NodeConfig.OPTIONS, file), Map.of());
    assertEquals("loaded-first", s.string("strategy"));
    assertEquals(500, s.duration("connect-timeout").toMillis());
  }
}
