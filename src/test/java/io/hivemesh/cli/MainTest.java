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
    assertOneLine(run("sim", "--models", "m", "--model-speeds", "m=fast"),
        "--model-speeds: 'm=fast' is not NAME=TOKENS_PER_SECOND (a number of at least 0), e.g. llama3.1:70b=8");
    assertOneLine(run("launch"), "unknown command 'launch' (node, edge, sim, demo, certs, token, config, bench, status)");
  }

  @Test
  void badBenchArgumentsAreOneLineAndStartNothing() {
    assertOneLine(run("bench"), "bench: name a scenario: overhead, placement, scale or all");
    assertOneLine(run("bench", "speed"), "bench: unknown scenario 'speed' (overhead, placement, scale, all)");
    assertOneLine(run("bench", "scale", "--nodes", "1,0"), "--nodes: '0' is not a whole number from 1 to 64");
    CliRun help = run("bench", "overhead", "--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("--loads VALUE"), help.out());
  }

  @Test
  void badEdgeOptionsAreOneLineNamingTheOption() {
    assertOneLine(run("edge", "--connect", "wss://n:1"), "--name is required (or set HIVE_NAME)");
    assertOneLine(run("edge", "--name", "e"), "--connect: give at least one node address, wss://HOST:PORT");
    assertOneLine(run("edge", "--name", "e", "--connect", "https://n:11434"), "--connect: expected wss://HOST:PORT"
        + " or ws://HOST:PORT entries separated by commas, got 'https://n:11434'");
    assertOneLine(run("edge", "--name", "e", "--connect", "wss://n"), "--connect: expected wss://HOST:PORT"
        + " or ws://HOST:PORT entries separated by commas, got 'wss://n'");
    assertOneLine(run("edge", "--name", "e", "--connect", "wss://n:1", "--ollama", "ftp://x"),
        "--ollama: expected an http:// or https:// URL with a host, got 'ftp://x'");
    assertTrue(run("edge", "--help").out().contains("[HIVE_TOKEN]"));
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
