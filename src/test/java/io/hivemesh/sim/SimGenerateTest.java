package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** /api/generate and /api/chat: chunk shapes, streaming, determinism and Ollama's error texts. */
@ExtendWith(VertxExtension.class)
class SimGenerateTest {

  private static String text(List<JsonObject> chunks, boolean chat) {
    return chunks.stream().map(c -> chat ? c.getJsonObject("message").getString("content") : c.getString("response"))
        .collect(Collectors.joining());
  }

  @Test
  void generateStreamsNdjsonChunks(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply r = http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"Why is the sky blue?\","
        + "\"options\":{\"num_predict\":7}}");
    assertEquals(200, r.status());
    assertEquals("application/x-ndjson", r.header("Content-Type"));
    assertEquals("chunked", r.header("Transfer-Encoding"));
    List<JsonObject> chunks = r.jsonLines();
    assertEquals(8, chunks.size());
    for (JsonObject c : chunks.subList(0, 7)) {
      assertEquals("llama3.2", c.getString("model"));
      assertFalse(c.getBoolean("done"));
      assertFalse(c.getString("response").isEmpty());
      String created = c.getString("created_at");
      assertTrue(created.matches(".*T.*\\.\\d+Z"), created);
      Instant.parse(created);
    }
    JsonObject last = chunks.get(7);
    assertTrue(last.getBoolean("done"));
    assertEquals("", last.getString("response"));
    assertEquals("length", last.getString("done_reason"));
    assertEquals(7, last.getInteger("eval_count"));
    assertTrue(last.getInteger("prompt_eval_count") > 0);
    assertTrue(last.getLong("total_duration") > 0);
    assertTrue(last.getLong("eval_duration") > 0);
    assertTrue(last.getJsonArray("context").size() == last.getInteger("prompt_eval_count") + 7);
    assertTrue(text(chunks, false).endsWith("."));
  }

  @Test
  void aModelWithASpeedOfItsOwnGeneratesAtItAndTheOthersAtTheSims(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withModelSpeed("llama3.2", 40));
    SimHttp http = new SimHttp(vertx, sim.port());
    JsonObject slow = http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,"
        + "\"options\":{\"num_predict\":8}}").json();
    assertEquals(8, slow.getInteger("eval_count"));
    // Eight tokens at 40 a second: 200 ms (the sim's timers count whole milliseconds, and fire late, never early).
    assertTrue(slow.getLong("eval_duration") >= 190_000_000L, slow.encode());
    // The sim's own speed is "at once" (nominal microseconds per token); the model keeps its own under any name.
    JsonObject fullName = http.post("/api/generate", "{\"model\":\"llama3.2:latest\",\"prompt\":\"hi\","
        + "\"stream\":false,\"options\":{\"num_predict\":8}}").json();
    assertTrue(fullName.getLong("eval_duration") >= 190_000_000L, "the same model under its full name");
    SimHttp.Reply embed = http.post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":\"hi\"}");
    assertEquals(200, embed.status());
  }

  @Test
  void nonStreamingIsOneJsonObject(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(500));
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply gen = http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false}");
    assertEquals("application/json; charset=utf-8", gen.header("Content-Type"));
    JsonObject g = gen.json();
    assertTrue(g.getBoolean("done"));
    assertEquals("stop", g.getString("done_reason"));
    int n = g.getInteger("eval_count");
    assertTrue(n >= 20 && n <= 120, "natural length " + n);
    assertEquals(n, g.getString("response").split(" ").length);

    SimHttp.Reply chat = http.post("/api/chat", "{\"model\":\"llama3.2:latest\",\"stream\":false,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
    JsonObject c = chat.json();
    assertEquals("llama3.2:latest", c.getString("model"), "the model string is echoed as sent");
    assertEquals("assistant", c.getJsonObject("message").getString("role"));
    assertFalse(c.getJsonObject("message").getString("content").isEmpty());
    assertNull(c.getValue("context"));
    assertTrue(c.getLong("load_duration") > 0);
  }

  @Test
  void chatStreamsMessages(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply r = http.post("/api/chat", "{\"model\":\"registry.ollama.ai/library/LLAMA3.2\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"options\":{\"num_predict\":3}}");
    assertEquals("application/x-ndjson", r.header("Content-Type"));
    List<JsonObject> chunks = r.jsonLines();
    assertEquals(4, chunks.size());
    assertEquals("registry.ollama.ai/library/LLAMA3.2", chunks.get(0).getString("model"));
    assertEquals("assistant", chunks.get(0).getJsonObject("message").getString("role"));
    JsonObject last = chunks.get(3);
    assertTrue(last.getBoolean("done"));
    assertEquals("", last.getJsonObject("message").getString("content"));
    assertEquals(3, last.getInteger("eval_count"));
  }

  @Test
  void streamingReallyStreams(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(20));
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply r = http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"options\":{\"num_predict\":8}}");
    List<Long> t = r.lineNanos();
    assertEquals(9, t.size());
    long spreadMs = (t.get(8) - t.get(0)) / 1_000_000;
    // 8 tokens at 20/s: the last arrives about 350 ms after the first.
    assertTrue(spreadMs >= 250, "first and last chunk " + spreadMs + " ms apart");
    long distinct = t.stream().distinct().count();
    assertTrue(distinct >= 7, "chunks arrive one by one, " + distinct + " distinct arrival times");
  }

  @Test
  void sameSeedSameText(Vertx vertx) {
    String body = "{\"model\":\"llama3.2\",\"prompt\":\"tell me\",\"stream\":false}";
    SimHttp a = new SimHttp(vertx, SimHttp.start(vertx, SimHttp.fast().withSeed(1)).port());
    SimHttp b = new SimHttp(vertx, SimHttp.start(vertx, SimHttp.fast().withSeed(1)).port());
    SimHttp c = new SimHttp(vertx, SimHttp.start(vertx, SimHttp.fast().withSeed(2)).port());
    String first = a.post("/api/generate", body).json().getString("response");
    assertEquals(first, a.post("/api/generate", body).json().getString("response"));
    assertEquals(first, b.post("/api/generate", body).json().getString("response"));
    assertNotEquals(first, c.post("/api/generate", body).json().getString("response"));
    assertNotEquals(first, a.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"other\",\"stream\":false}")
        .json().getString("response"));
    String streamed = text(a.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"tell me\"}").jsonLines(), false);
    assertEquals(first, streamed);
  }

  @Test
  void emptyPromptLoadsAndKeepAliveZeroUnloads(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    SimHttp.Reply load = http.post("/api/generate", "{\"model\":\"llama3.2\"}");
    assertEquals("application/json; charset=utf-8", load.header("Content-Type"));
    JsonObject l = load.json();
    assertEquals("load", l.getString("done_reason"));
    assertTrue(l.getBoolean("done"));
    assertEquals("", l.getString("response"));
    assertEquals(1, http.get("/api/ps").json().getJsonArray("models").size());
    assertEquals(1, sim.stats().coldLoads());

    JsonObject chatLoad = http.post("/api/chat", "{\"model\":\"llama3.2\",\"messages\":[]}").json();
    assertEquals("load", chatLoad.getString("done_reason"));
    assertEquals("assistant", chatLoad.getJsonObject("message").getString("role"));

    JsonObject unload = http.post("/api/generate", "{\"model\":\"llama3.2\",\"keep_alive\":0}").json();
    assertEquals("unload", unload.getString("done_reason"));
    assertEquals(0, http.get("/api/ps").json().getJsonArray("models").size());
    JsonObject chatUnload = http.post("/api/chat", "{\"model\":\"llama3.2\",\"keep_alive\":\"0s\"}").json();
    assertEquals("unload", chatUnload.getString("done_reason"));
  }

  @Test
  void errorsCarryOllamasMessages(Vertx vertx) {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast());
    SimHttp http = new SimHttp(vertx, sim.port());
    assertError(http.post("/api/generate", ""), 400, "missing request body");
    assertError(http.post("/api/chat", "  "), 400, "missing request body");
    assertError(http.post("/api/generate", "xyz"), 400, "invalid character 'x' looking for beginning of value");
    assertError(http.post("/api/chat", "{\"model\":"), 400, "unexpected EOF");
    assertError(http.post("/api/chat", "{\"messages\":[]}"), 400, "model is required");
    assertError(http.post("/api/generate", "{\"prompt\":\"hi\"}"), 404, "model '' not found");
    assertError(http.post("/api/generate", "{\"model\":\"nope\",\"prompt\":\"hi\"}"), 404, "model 'nope' not found");
    assertError(http.post("/api/chat", "{\"model\":\"nope\",\"messages\":[]}"), 404, "model 'nope' not found");
    assertError(http.post("/api/generate", "{\"model\":\"bad name!\"}"), 400, "invalid model name");
    assertError(http.post("/api/generate", "{\"model\":\"nomic-embed-text\",\"prompt\":\"hi\"}"), 400,
        "\"nomic-embed-text\" does not support generate");
    assertError(http.post("/api/chat", "{\"model\":\"nomic-embed-text\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
        400, "\"nomic-embed-text\" does not support chat");
    assertError(http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":5}"), 400,
        "json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string");
    assertError(http.post("/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":1}]}"), 400,
        "json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type string");
    assertError(http.post("/api/generate", "{\"model\":\"llama3.2\",\"stream\":\"no\"}"), 400,
        "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool");
    assertError(http.post("/api/generate", "[1]"), 400,
        "json: cannot unmarshal array into Go value of type api.GenerateRequest");
    assertError(http.post("/api/generate", "{\"model\":\"llama3.2\",\"keep_alive\":\"soon\"}"), 400,
        "time: invalid duration \"soon\"");
    assertError(http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"options\":{\"num_predict\":\"5\"}}"),
        500, "option \"num_predict\" must be of type integer");
    assertError(http.post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"think\":true}"), 400,
        "\"llama3.2\" does not support thinking");
    assertError(http.post("/api/chat", "{\"model\":\"nomic-embed-text\",\"messages\":[],\"tools\":[{}]}"), 400,
        "\"nomic-embed-text\" does not support chat");
    assertEquals(0, sim.stats().requests(), "refused requests are not counted");
  }

  static void assertError(SimHttp.Reply r, int status, String message) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/json; charset=utf-8", r.header("Content-Type"));
    assertEquals(new JsonObject().put("error", message), r.json());
  }
}
