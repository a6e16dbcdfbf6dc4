package io.hivemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.security.MeshPki;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hive sim --tls-cert/--tls-key}: the emulator as an Ollama behind a TLS-terminating proxy. */
class SimTlsTest {

  @TempDir
  static Path pki;

  @BeforeAll
  static void issueCertificate() {
    // Names in it: "ollama", "localhost" and 127.0.0.1.
    MeshPki.create(pki, List.of("ollama"), List.of(), Duration.ofDays(1));
  }

  @Test
  void withACertificateTheSimServesHttpsOnly() throws Exception {
    SimOptions options = SimCommand.parse(new String[] {"--port", "0", "--models", "llama3.2", "--load-ms", "0",
        "--tls-cert", pki.resolve("ollama.crt").toString(), "--tls-key", pki.resolve("ollama.key").toString()});
    Vertx vertx = Vertx.vertx();
    try {
      OllamaSim sim = await(OllamaSim.start(vertx, options));
      assertEquals("https://127.0.0.1:" + sim.port(), sim.url());
      RequestOptions tags = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(sim.port())
          .setURI("/api/tags");
      var https = vertx.createHttpClient(new HttpClientOptions().setSsl(true)
          .setTrustOptions(new PemTrustOptions().addCertPath(pki.resolve("ca.crt").toString())));
      String body = await(https.request(tags).compose(r -> r.send().compose(resp -> {
        assertEquals(200, resp.statusCode());
        return resp.body();
      }))).toString();
      assertTrue(body.contains("llama3.2"), body);
      // Plain HTTP gets no answer: the port speaks TLS only.
      var http = vertx.createHttpClient(new HttpClientOptions());
      Future<Integer> plain = http.request(tags).compose(r -> r.send()).map(resp -> resp.statusCode());
      await(plain.otherwise(-1));
      assertTrue(plain.failed(), "plain HTTP answered " + plain.result());
    } finally {
      await(vertx.close());
    }
  }

  @Test
  void aCertificateWithoutItsKeyOrAnUnreadableOneStopsTheStartWithOneLine() {
    CliRun half = CliRun.of("sim", "--models", "m", "--tls-cert", pki.resolve("ollama.crt").toString());
    assertNotEquals(0, half.code());
    assertEquals(1, half.err().strip().lines().count(), half.err());
    assertTrue(half.err().contains("--tls-cert and --tls-key: give both or neither"), half.err());
    CliRun missing = CliRun.of("sim", "--models", "m", "--tls-cert", pki.resolve("nope.crt").toString(),
        "--tls-key", pki.resolve("ollama.key").toString());
    assertNotEquals(0, missing.code());
    assertEquals(1, missing.err().strip().lines().count(), missing.err());
    assertTrue(missing.err().contains("--tls-cert"), missing.err());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
