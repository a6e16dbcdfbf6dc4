package io.hivemesh.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.NodeConfig;
import io.hivemesh.security.MeshPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {

  /** Routing and timing options, checked on a node that needs no client keys. */
  private static NodeConfig parse(Map<String, String> env, String... args) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = "--insecure-no-auth";
    return NodeConfig.parse(all, env);
  }

  private static String error(Map<String, String> env, String... args) {
    return assertThrows(ConfigException.class, () -> parse(env, args)).getMessage();
  }

  @Test
  void flagsWithDefaults() {
    NodeConfig c = parse(Map.of(), "--name", "a", "--port", "8080", "--ollama", "http://10.0.0.5:11434",
        "--cluster-port", "5701", "--bus-port", "5801", "--join", "h1:5701, h2:5702", "--strategy", "round-robin");
    assertEquals("a", c.name());
    assertEquals(8080, c.port());
    assertEquals("10.0.0.5", c.ollama().getHost());
    assertEquals(List.of("h1:5701", "h2:5702"), c.join());
    assertEquals("round-robin", c.strategy());
    assertEquals(Duration.ofMillis(500), c.connectTimeout());
    assertEquals(Duration.ofMinutes(10), c.firstByteTimeout());
  }

  @Test
  void overloadBoundsHaveDefaultsAndAreChecked() {
    NodeConfig c = parse(Map.of(), "--name", "a");
    assertEquals(256, c.maxQueuePerModel());
    assertEquals(16384, c.maxConnections());
    assertEquals(Duration.ofSeconds(10), c.headerTimeout());
    assertEquals(Duration.ofSeconds(60), c.bodyTimeout());
    assertEquals(Duration.ofSeconds(60), c.keepAliveTimeout());
    assertEquals(16 * 1024, c.maxHeaderSize());
    assertEquals(8 * 1024, c.maxInitialLine());
    assertEquals(1L << 30, c.maxBodyBuffer());
    assertEquals("--max-body-buffer: must be at least --body-limit (67108864 bytes), or no body of the largest allowed"
        + " size could ever be received; got 1048576", error(Map.of(), "--name", "a", "--max-body-buffer", "1m"));
    assertEquals("--header-timeout: must be greater than zero", error(Map.of(), "--name", "a", "--header-timeout", "0s"));
    assertEquals("--max-queue-per-model: expected a number from 1 to 1000000, got '0'",
        error(Map.of(), "--name", "a", "--max-queue-per-model", "0"));
  }

  @Test
  void precedenceIsFlagThenEnvironmentThenFileThenDefault(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("hive.yaml");
    Files.writeString(file, "name: from-file\nport: 1111\nparallel: 3\njoin:\n  - a:1\n  - b:2\n");
    NodeConfig c = parse(Map.of("HIVE_PORT", "2222", "HIVE_PARALLEL", "5"), "--config", file.toString(), "--parallel", "7");
    assertEquals("from-file", c.name());
    assertEquals(2222, c.port());
    assertEquals(7, c.parallel());
    assertEquals(List.of("a:1", "b:2"), c.join());
  }

  @Test
  void badValuesNameTheOption() {
    assertEquals("--name is required (or set HIVE_NAME)", error(Map.of()));
    assertEquals("--port: expected a number from 0 to 65535, got 'http'", error(Map.of(), "--name", "a", "--port", "http"));
    assertEquals("HIVE_CONNECT_TIMEOUT: expected a duration such as 500ms, 2s or 10m, got 'soon'",
        error(Map.of("HIVE_CONNECT_TIMEOUT", "soon"), "--name", "a"));
    assertEquals("--strategy: expected one of loaded-first, least-loaded, round-robin, got 'random'",
        error(Map.of(), "--name", "a", "--strategy", "random"));
    assertEquals("--join: expected HOST:PORT entries separated by commas, got 'nohost'",
        error(Map.of(), "--name", "a", "--join", "nohost"));
    assertEquals("unknown option --nmae", error(Map.of(), "--nmae", "a"));
    assertEquals("--port needs a value", error(Map.of(), "--name", "a", "--port"));
    assertTrue(error(Map.of(), "--name", "a b").startsWith("--name: expected letters"));
  }

  @Test
  void fileProblemsAreOneLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("hive.yaml");
    Files.writeString(file, "name: a\nprot: 1\n");
    assertEquals("unknown key 'prot' in " + file, error(Map.of(), "--config", file.toString()));
    Files.writeString(file, "port: 99999\nname: a\n");
    assertEquals("'port' in " + file + ": expected a number from 0 to 65535, got '99999'",
        error(Map.of(), "--config", file.toString()));
    Files.writeString(file, "name: [a\n");
    assertTrue(error(Map.of(), "--config", file.toString()).contains("is not valid YAML"));
    assertTrue(error(Map.of(), "--config", dir.resolve("missing.yaml").toString()).startsWith("--config: cannot read"));
  }

  @Test
  void fileOfCommentsOnlyLeavesTheDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("hive.yaml");
    Files.writeString(file, "# every key left to its default\n");
    NodeConfig c = parse(Map.of("HIVE_CONFIG", file.toString()), "--name", "a");
    assertEquals(11434, c.port());
    Files.writeString(file, "");
    assertEquals(11434, parse(Map.of(), "--config", file.toString(), "--name", "a").port());
  }

  @Test
  void ollamaCaIsForAnHttpsOllamaAndMustBeAReadableCertificate(@TempDir Path dir) {
    MeshPki.create(dir, List.of("ollama"), List.of(), Duration.ofDays(1));
    String ca = dir.resolve("ca.crt").toString();
    assertEquals(dir.resolve("ca.crt"), parse(Map.of(), "--name", "a", "--ollama", "https://gpu-1:443",
        "--ollama-ca", ca).tls().ollamaCa());
    assertEquals("--ollama-ca: only for an https --ollama, got http://127.0.0.1:11435",
        error(Map.of(), "--name", "a", "--ollama-ca", ca));
    String missing = error(Map.of(), "--name", "a", "--ollama", "https://gpu-1", "--ollama-ca",
        dir.resolve("nope.crt").toString());
    assertTrue(missing.startsWith("--ollama-ca: "), missing);
  }

  @Test
  void ttlMustOutliveTwoRefreshes() {
    assertEquals("--entry-ttl: must be at least twice --publish-interval (250ms), got 400ms",
        error(Map.of(), "--name", "a", "--entry-ttl", "400ms"));
  }

  @Test
  void shippedConfigFileIsValid() {
    NodeConfig c = NodeConfig.parse(new String[] {"--config", "conf/hive.yaml", "--name", "x", "--jwt-secret-file",
        "src/test/resources/jwt-test.secret"}, Map.of());
    assertEquals("x", c.name());
    assertFalse(c.auth().insecure());
  }
}
