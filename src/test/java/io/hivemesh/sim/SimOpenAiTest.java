package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The /v1 layer: SSE framing, OpenAI object shapes and error objects. */
@ExtendWith(VertxExtension.class)
class SimOpenAiTest {

  private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]";

  private OllamaSim sim;
  private SimHttp http;

  @BeforeEach
  void start(Vertx vertx) {
    sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(200));
    http = new SimHttp(vertx, sim.port());
  }

  @Test
  void chatStreamIsSseEndingWithDone() {
    SimHttp.Reply r = http.post("/v1/chat/completions", "{\"model\":\"llama3.2\"," + MESSAGES
        + ",\"stream\":true,\"max_tokens\":4,\"stream_options\":{\"include_usage\":true}}");
    assertEquals(200, r.status());
    assertEquals("text/event-stream", r.header("Content-Type"));
    assertTrue(r.body().endsWith("data: [DONE]\n\n"));
    assertTrue(r.body().startsWith("data: {"));
    List<JsonObject> events = r.events();
    assertEquals(6, events.size(), "4 content chunks, the finish chunk, the usage chunk");
    String id = events.get(0).getString("id");
    assertTrue(id.matches("chatcmpl-\\d+"), id);
    for (JsonObject e : events) {
      assertEquals(id, e.getString("id"));
      assertEquals("chat.completion.chunk", e.getString("object"));
      assertEquals("fp_ollama", e.getString("system_fingerprint"));
      assertEquals("llama3.2", e.getString("model"));
      assertEquals(events.get(0).getLong("created"), e.getLong("created"));
    }
    JsonObject first = events.get(0).getJsonArray("choices").getJsonObject(0);
    assertEquals("assistant", first.getJsonObject("delta").getString("role"));
    assertFalse(first.getJsonObject("delta").getString("content").isEmpty());
    assertTrue(first.containsKey("finish_reason") && first.getValue("finish_reason") == null);
    assertNull(events.get(1).getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"));
    JsonObject finish = events.get(4).getJsonArray("choices").getJsonObject(0);
    assertEquals(new JsonObject(), finish.getJsonObject("delta"));
    assertEquals("length", finish.getString("finish_reason"));
    JsonObject usage = events.get(5);
    assertEquals(new JsonArray(), usage.getJsonArray("choices"));
    assertEquals(4, usage.getJsonObject("usage").getInteger("completion_tokens"));
    assertEquals(usage.getJsonObject("usage").getInteger("prompt_tokens") + 4,
        usage.getJsonObject("usage").getInteger("total_tokens"));
  }

  @Test
  void chatDefaultsToOneCompletionObject() {
    SimHttp.Reply r = http.post("/v1/chat/completions", "{\"model\":\"llama3.2\"," + MESSAGES + "}");
    assertEquals("application/json", r.header("Content-Type"));
    JsonObject c = r.json();
    assertEquals("chat.completion", c.getString("object"));
    assertTrue(c.getString("id").startsWith("chatcmpl-"));
    assertEquals("fp_ollama", c.getString("system_fingerprint"));
    JsonObject choice = c.getJsonArray("choices").getJsonObject(0);
    assertEquals(0, choice.getInteger("index"));
    assertEquals("assistant", choice.getJsonObject("message").getString("role"));
    assertEquals("stop", choice.getString("finish_reason"));
    String content = choice.getJsonObject("message").getString("content");
    assertEquals(content, http.post("/api/chat", "{\"model\":\"llama3.2\"," + MESSAGES + ",\"stream\":false}")
        .json().getJsonObject("message").getString("content"), "the same answer as the native route");
    assertTrue(c.getJsonObject("usage").getInteger("completion_tokens") > 0);
  }

  @Test
  void completionsStreamAndWhole() {
    SimHttp.Reply s = http.post("/v1/completions", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":true,\"max_tokens\":2}");
    assertEquals("text/event-stream", s.header("Content-Type"));
    assertTrue(s.body().endsWith("data: [DONE]\n\n"));
    List<JsonObject> events = s.events();
    assertEquals(3, events.size());
    assertEquals("text_completion", events.get(0).getString("object"));
    assertTrue(events.get(0).getString("id").startsWith("cmpl-"));
    assertEquals("length", events.get(2).getJsonArray("choices").getJsonObject(0).getString("finish_reason"));

    JsonObject whole = http.post("/v1/completions", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"max_tokens\":3}").json();
    assertEquals("text_completion", whole.getString("object"));
    assertFalse(whole.getJsonArray("choices").getJsonObject(0).getString("text").isEmpty());
    assertEquals(3, whole.getJsonObject("usage").getInteger("completion_tokens"));
  }

  @Test
  void embeddingsAreAList() {
    SimHttp.Reply r = http.post("/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":[\"a\",\"b c\"]}");
    assertEquals("application/json", r.header("Content-Type"));
    JsonObject body = r.json();
    assertEquals("list", body.getString("object"));
    assertEquals("nomic-embed-text", body.getString("model"));
    JsonArray data = body.getJsonArray("data");
    assertEquals(2, data.size());
    assertEquals("embedding", data.getJsonObject(1).getString("object"));
    assertEquals(1, data.getJsonObject(1).getInteger("index"));
    assertEquals(768, data.getJsonObject(0).getJsonArray("embedding").size());
    assertTrue(body.getJsonObject("usage").getInteger("prompt_tokens") > 0);
    String b64 = http.post("/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":\"a\",\"encoding_format\":\"base64\","
        + "\"dimensions\":8}").json().getJsonArray("data").getJsonObject(0).getString("embedding");
    assertEquals(32, Base64.getDecoder().decode(b64).length);
  }

  @Test
  void modelsListAndRetrieve() {
    SimHttp.Reply list = http.get("/v1/models");
    assertEquals("application/json", list.header("Content-Type"));
    JsonObject body = list.json();
    assertEquals("list", body.getString("object"));
    JsonObject first = body.getJsonArray("data").getJsonObject(0);
    assertEquals("llama3.2:latest", first.getString("id"));
    assertEquals("model", first.getString("object"));
    assertEquals("library", first.getString("owned_by"));
    assertTrue(first.getLong("created") > 1_600_000_000L);
    JsonObject one = http.get("/v1/models/llama3.2").json();
    assertEquals("llama3.2", one.getString("id"));
    assertEquals("library", one.getString("owned_by"));
    SimHttp.Reply missing = http.get("/v1/models/nope");
    assertEquals(404, missing.status());
    assertOpenAiError(missing, "not_found_error", "model 'nope:latest' not found");
  }

  @Test
  void errorsAreOpenAiObjects() {
    assertOpenAiError(http.post("/v1/chat/completions", "{\"model\":\"nope\"," + MESSAGES + "}"), "not_found_error",
        "model 'nope' not found");
    assertOpenAiError(http.post("/v1/chat/completions", "{\"model\":\"llama3.2\",\"messages\":[]}"),
        "invalid_request_error", "[] is too short - 'messages'");
    assertOpenAiError(http.post("/v1/chat/completions", ""), "invalid_request_error", "EOF");
    assertOpenAiError(http.post("/v1/chat/completions", "{"), "invalid_request_error", "unexpected EOF");
    assertOpenAiError(http.post("/v1/chat/completions", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":1}]}"),
        "invalid_request_error", "invalid message content type: float64");
    assertOpenAiError(http.post("/v1/completions", "{\"prompt\":\"x\"}"), "not_found_error", "model '' not found");
    assertOpenAiError(http.post("/v1/embeddings", "{\"model\":\"nomic-embed-text\"}"), "invalid_request_error",
        "invalid input");
    assertOpenAiError(http.post("/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":\"x\",\"encoding_format\":\"hex\"}"),
        "invalid_request_error", "Invalid value for 'encoding_format' = hex. Supported values: ['float', 'base64'].");
    assertOpenAiError(http.post("/v1/chat/completions", "{\"model\":\"nomic-embed-text\"," + MESSAGES + "}"),
        "invalid_request_error", "\"nomic-embed-text\" does not support chat");
  }

  private static void assertOpenAiError(SimHttp.Reply r, String type, String message) {
    int expected = switch (type) {
      case "invalid_request_error" -> 400;
      case "not_found_error" -> 404;
      default -> 500;
    };
    assertEquals(expected, r.status(), r.body());
    assertTrue(r.header("Content-Type").startsWith("application/json"));
    JsonObject error = r.json().getJsonObject("error");
    assertEquals(message, error.getString("message"));
    assertEquals(type, error.getString("type"));
    assertTrue(error.containsKey("param") && error.getValue("param") == null);
    assertTrue(error.containsKey("code") && error.getValue("code") == null);
  }
}
