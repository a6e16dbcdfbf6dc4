package io.hivemesh.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.loopback.LocalMesh;
import io.hivemesh.support.loopback.LocalNode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code hive node --log-format json} as shipped: every line the process writes is one JSON
 * object, its access line carries the request's fields, and no line holds the prompt, the answer
 * or the bearer token.
 */
class JsonLogIT {

  private static final Path LOGS = Path.of("target", "it-logs", "JsonLogIT");

  @Test
  void everyLineIsOneJsonObjectAndNoneHoldsTheRequestsContent() throws Exception {
    String prompt = "the vault combination is SECRET-4412-KILO";
    String bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpdCJ9.SECRET-SIGNATURE-9931";
    Path log;
    String answer;
    try (LocalMesh mesh = new LocalMesh(LOGS)) {
      LocalNode node = mesh.addSite("json-site", SimOptions.defaults().withModels("llama3.2").withLoadMs(0)
          .withTokensPerSecond(200), List.of(), List.of("--log-format", "json"));
      mesh.awaitMesh(List.of(node), Duration.ofSeconds(90));
      HttpResponse<String> r = Http.post(node.httpPort(), "/api/chat",
          "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}],\"stream\":false,"
              + "\"options\":{\"num_predict\":16}}", "Authorization", "Bearer " + bearer, "X-Request-Id", "json-it-1");
      assertEquals(200, r.statusCode(), r.body());
      answer = new JsonObject(r.body()).getJsonObject("message").getString("content");
      log = LOGS.resolve("json-site.log");
      Path written = log;
      io.hivemesh.support.TestMesh.awaitTrue("the access line is written", Duration.ofSeconds(10),
          () -> readQuietly(written).contains("\"request_id\":\"json-it-1\""));
      node.terminate();
      node.awaitExit(Duration.ofSeconds(60));
    }
    JsonObject access = null;
    List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
    assertTrue(lines.size() >= 3, "the node logged: " + lines);
    for (String line : lines) {
      JsonObject event;
      try {
        event = new JsonObject(line);
      } catch (DecodeException e) {
        throw new AssertionError("not a JSON object: " + line, e);
      }
      for (String field : List.of("time", "level", "logger", "message")) {
        assertTrue(event.containsKey(field), field + " missing: " + line);
      }
      assertFalse(line.contains("SECRET-4412"), "a log line holds the prompt: " + line);
      assertFalse(line.contains("SECRET-SIGNATURE"), "a log line holds the token: " + line);
      assertFalse(line.contains(answer), "a log line holds the answer: " + line);
      if ("json-it-1".equals(event.getString("request_id"))) {
        access = event;
      }
    }
    assertTrue(access != null, "no access line for the request");
    assertEquals("io.hivemesh.access", access.getString("logger"));
    assertEquals(200, access.getInteger("status"));
    assertEquals("/api/chat", access.getString("path"));
    assertEquals("llama3.2:latest", access.getString("model"));
    assertEquals("json-site", access.getString("site"));
    assertTrue(access.getLong("duration_ms") >= access.getLong("ttft_ms"), access.encode());
    assertTrue(access.getLong("output_tokens") > 0, access.encode());
  }

  private static String readQuietly(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
