package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hive config check FILE}: every problem of a file, each naming its key. */
class ConfigCheckTest {

  private static final String NL = System.lineSeparator();

  @Test
  void shippedConfigPassesAndSaysWhatItLeavesToStartTime() {
    CliRun r = CliRun.of("config", "check", "conf/hive.yaml");
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals("", r.err());
    assertEquals(List.of(
        "note: name is not set here: give each node its own at start (--name or HIVE_NAME)",
        "note: no key for client tokens here: give jwt-secret-file, jwt-public-key or jwks at start"
            + " (flag or HIVE_* variable), or the node refuses to start",
        "conf/hive.yaml: ok"), r.out().lines().toList());
  }

  @Test
  void everyProblemIsListedNotJustTheFirst(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("site.yaml");
    Files.writeString(file, String.join("\n",
        "name: lab-gpu",
        "insecure-no-auth: true",
        "prot: 8080",
        "port: 99999",
        "strategy: random",
        "connect-timeout: soon",
        "join: [nohost]",
        "tls-cert: " + dir.resolve("absent.crt"),
        "cluster-host: 10.1.2.3",
        "ollama:",
        "  url: http://x",
        "publish-interval: 2s",
        "parallel: 4",
        ""));
    CliRun r = CliRun.of("config", "check", file.toString());
    assertEquals(2, r.code());
    List<String> lines = r.out().lines().toList();
    assertEquals(List.of(
        "unknown key 'prot' in " + file,
        "'ollama' in " + file + " must be a single value",
        "'port' in " + file + ": expected a number from 0 to 65535, got '99999'",
        "'join' in " + file + ": expected HOST:PORT entries separated by commas, got 'nohost'",
        "'strategy' in " + file + ": expected one of loaded-first, least-loaded, round-robin, got 'random'",
        "'connect-timeout' in " + file + ": expected a duration such as 500ms, 2s or 10m, got 'soon'",
        "--tls-cert and --tls-key: give both or neither",
        "--cluster-host 10.1.2.3 is reachable from other hosts: give --mesh-ca, --mesh-cert and --mesh-key so the"
            + " mesh runs inside TLS (or --insecure-plaintext-mesh)",
        "--entry-ttl: must be at least twice --publish-interval (2000ms), got 3000ms"), lines);
    assertEquals("hive: " + file + ": 9 problems" + NL, r.err());
  }

  @Test
  void aFileThatIsNoYamlMapIsOneLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("list.yaml");
    Files.writeString(file, "- port: 1\n");
    CliRun r = CliRun.of("config", "check", file.toString());
    assertEquals(2, r.code());
    assertEquals("hive: --config: " + file + " must be a map of option: value" + NL, r.err());

    Files.writeString(file, "port: [1\n");
    r = CliRun.of("config", "check", file.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("hive: --config: " + file + " is not valid YAML: "), r.err());
    assertEquals(1, r.err().lines().count());

    r = CliRun.of("config", "check", dir.resolve("none.yaml").toString());
    assertEquals("hive: --config: cannot read " + dir.resolve("none.yaml") + ": no such file" + NL, r.err());
  }

  @Test
  void aCompleteFileNeedsNoNotes(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("site.yaml");
    Files.writeString(file, "name: lab-gpu\njwt-secret-file: " + Path.of("src/test/resources/jwt-test.secret").toAbsolutePath()
        + "\nstrategy: least-loaded\n");
    CliRun r = CliRun.of("config", "check", file.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals(file + ": ok" + NL, r.out());
  }

  @Test
  void aNodeStartedWithABadFileStopsWithOneLineNamingTheKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("site.yaml");
    Files.writeString(file, "name: a\ninsecure-no-auth: true\nconnect-timeout: soon\nprot: 1\n");
    CliRun r = CliRun.of("node", "--config", file.toString());
    assertEquals(2, r.code());
    assertEquals("hive: unknown key 'prot' in " + file + NL, r.err());
    Files.writeString(file, "name: a\ninsecure-no-auth: true\nconnect-timeout: soon\n");
    r = CliRun.of("node", "--config", file.toString());
    assertEquals("hive: 'connect-timeout' in " + file + ": expected a duration such as 500ms, 2s or 10m, got 'soon'" + NL,
        r.err());
  }

  @Test
  void usageIsOneLine() {
    CliRun r = CliRun.of("config");
    assertEquals(2, r.code());
    assertEquals("hive: usage: hive config check FILE" + NL, r.err());
    assertFalse(CliRun.of("config", "--help").out().isEmpty());
  }
}
