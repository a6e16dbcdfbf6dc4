package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.config.ConfigException;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.transport.Transport;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * {@code --transport}: auto takes the cheapest socket I/O the host runs, a named one this host
 * cannot run stops the start with one line, and on every one the host runs a node relays the way
 * it does on any other.
 */
class NetworkTransportTest {

  private static final Throwable FORBIDDEN = new IllegalStateException("io_uring_setup: Operation not permitted");

  @Test
  void autoTakesIoUringThenEpollThenNio() {
    assertEquals(Transport.IO_URING, NetworkTransport.choose("auto", t -> null));
    assertEquals(Transport.EPOLL, NetworkTransport.choose("auto", t -> t == Transport.IO_URING ? FORBIDDEN : null));
    assertEquals(Transport.NIO, NetworkTransport.choose("auto", t -> t == Transport.NIO ? null : FORBIDDEN));
  }

  @Test
  void aNamedTransportTheHostCannotRunIsOneLineNamingWhy() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> NetworkTransport.choose("io_uring", t -> t == Transport.IO_URING ? FORBIDDEN : null));
    assertEquals("--transport io_uring: not available on this host (io_uring_setup: Operation not permitted);"
        + " use --transport auto", e.getMessage());
    assertEquals(Transport.EPOLL, NetworkTransport.choose("epoll", t -> t == Transport.IO_URING ? FORBIDDEN : null));
  }

  @Test
  void anUnknownNameIsRefusedWithTheChoices() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> NodeConfig.parse(new String[] {"--name", "a", "--insecure-no-auth", "--transport", "uring"}, Map.of()));
    assertTrue(e.getMessage().contains("auto, io_uring, epoll, nio"), e.getMessage());
  }

  /** Each transport this host can run; Java's NIO always. */
  static Stream<String> transportsOfThisHost() {
    return Stream.of("io_uring", "epoll", "nio").filter(name -> {
      try {
        NetworkTransport.choose(name);
        return true;
      } catch (ConfigException unavailable) {
        return false;
      }
    });
  }

  @ParameterizedTest
  @MethodSource("transportsOfThisHost")
  void aMeshOnEachTransportRelaysLocallyAndOverTheBus(String transport) throws Exception {
    try (TestMesh mesh = new TestMesh()) {
      SimOptions sim = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(500);
      HiveNode site = mesh.add("site", sim.withModels("m"), "--transport", transport);
      HiveNode entry = mesh.add("entry", sim.withModels("other"), "--transport", transport);
      mesh.awaitConverged();
      assertEquals(transport, site.transport());
      assertEquals(transport, entry.transport());

      String body = "{\"model\":\"m\",\"prompt\":\"hi\",\"options\":{\"num_predict\":12}}";
      for (HiveNode via : List.of(site, entry)) {
        HttpResponse<Stream<String>> answer = Http.stream(via.httpPort(), "/api/generate", body);
        assertEquals(200, answer.statusCode());
        assertEquals("site", answer.headers().firstValue("x-hive-node").orElse(""));
        List<String> lines = answer.body().collect(Collectors.toList());
        assertEquals(13, lines.size(), "12 tokens and the done line, through " + via.name() + ": " + lines);
        assertTrue(lines.get(12).contains("\"done\":true"), lines.get(12));
      }
      // Twenty at once through the bus, each answered whole.
      List<HttpResponse<String>> answers = Stream.generate(() -> java.util.concurrent.CompletableFuture.supplyAsync(
              () -> Http.post(entry.httpPort(), "/api/generate", body.replace("}}", "},\"stream\":false}"))))
          .limit(20).collect(Collectors.toList()).stream().map(java.util.concurrent.CompletableFuture::join)
          .collect(Collectors.toList());
      assertEquals(Set.of(200), answers.stream().map(HttpResponse::statusCode).collect(Collectors.toSet()));
      assertTrue(answers.stream().allMatch(a -> a.body().contains("\"eval_count\":12")), answers.get(0).body());
    }
  }
}
