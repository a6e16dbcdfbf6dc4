package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The served log: what happened to each prompt, off by default, never more than its capacity. */
@ExtendWith(VertxExtension.class)
class SimServedLogTest {

  @Test
  void countsEachPromptAndForgetsTheOldestBeyondItsCapacity(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    assertNull(sim.stats().servedLog(), "off unless asked for");
    ServedLog log = sim.stats().keepServedLog(2);
    SimHttp http = new SimHttp(vertx, sim.port());
    for (String prompt : List.of("first", "second", "third", "third")) {
      assertEquals(200, SimHttp.await(http.send(HttpMethod.POST, "/api/generate",
          "{\"model\":\"llama3.2\",\"prompt\":\"" + prompt + "\",\"stream\":false}")).status());
    }
    assertEquals(200, SimHttp.await(http.send(HttpMethod.POST, "/api/chat",
        "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"fourth\"}],\"stream\":false}")).status());
    assertEquals(Map.of("third", new ServedLog.Served(2, 2, 0), "fourth", new ServedLog.Served(1, 1, 0)), log.snapshot());
    SimHttp.await(sim.close());
  }
}
