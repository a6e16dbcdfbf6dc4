package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What an operator sees when a command is given something wrong: one line naming the problem. */
class MainTest {

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  private static void assertOneLine(CliRun r, String expected) {
    assertEquals(2, r.code());
    assertEquals("hive: " + expected + System.lineSeparator(), r.err());
    assertFalse(r.err().contains("Exception"));
  }

  @Test
  void badNodeOptionsAreOneLineNamingTheOption() {
    assertOneLine(run("node"), "--name is required (or set HIVE_NAME)");
    assertOneLine(run("node", "--name", "a", "--cluster-port", "0"), "--cluster-port: expected a number from 1 to 65535, got '0'");
    assertOneLine(run("node", "--name", "a", "--ollama", "ftp://x"), "--ollama: expected an http:// or https:// URL with a host, got 'ftp://x'");
    assertOneLine(run("node", "--name", "a", "--insecure-no-auth", "--cluster-config", "/nonexistent.xml"),
        "--cluster-config: no such file /nonexistent.xml");
    assertOneLine(run("node", "--name", "a"), "no key to verify client tokens: give --jwt-secret-file, --jwt-public-key"
        + " or --jwks (or --insecure-no-auth for a local experiment)");
    assertOneLine(run("node", "--name", "a", "--cluster-host", "10.1.2.3", "--insecure-no-auth"), "--cluster-host"
        + " 10.1.2.3 is reachable from other hosts: give --mesh-ca, --mesh-cert and --mesh-key so the mesh runs inside"
        + " TLS (or --insecure-plaintext-mesh)");
    assertOneLine(run("sim", "--port", "1"), "--models: name at least one model, e.g. --models llama3.2,nomic-embed-text");
    assertOneLine(run("sim", "--models", "m", "--tokens-per-second", "-3"), "--tokens-per-second: expected a number of at least 0.0, got '-3'");
    assertOneLine(run("launch"), "unknown command 'launch' (node, sim, demo, certs, token, status)");
  }

  @Test
  void helpListsEveryOptionWithItsEnvironmentVariable() {
    CliRun r = run("node", "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("--cluster-port VALUE"));
    assertTrue(r.out().contains("[HIVE_CLUSTER_PORT]"));
    assertTrue(run("sim", "--help").out().contains("--tokens-per-second"));
  }
}
