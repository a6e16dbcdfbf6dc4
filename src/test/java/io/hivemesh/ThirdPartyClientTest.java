package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.TestMesh;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's Ollama module, a client nobody here wrote, pointed at a node whose own site lacks
 * the models: it chats, streams, embeds and lists through the mesh as it would against one Ollama.
 */
class ThirdPartyClientTest {

  static TestMesh mesh;
  static String url;

  @BeforeAll
  static void startMesh() {
    mesh = new TestMesh();
    SimOptions base = SimOptions.defaults().withLoadMs(0).withTokensPerSecond(100).withParallel(2);
    mesh.add("models", base.withModels(List.of("llama3.2", "nomic-embed-text")));
    mesh.add("front", base.withModels(List.of("phi3")));
    mesh.awaitConverged();
    url = "http://127.0.0.1:" + mesh.port("front");
  }

  @AfterAll
  static void stopMesh() {
    mesh.close();
  }

  @Test
  void chats() {
    OllamaChatModel model = OllamaChatModel.builder().baseUrl(url).modelName("llama3.2")
        .timeout(Duration.ofSeconds(30)).numPredict(8).build();
    String answer = model.chat("Say hello");
    assertFalse(answer.isBlank());
  }

  @Test
  void streamsTokenByToken() throws Exception {
    OllamaStreamingChatModel model = OllamaStreamingChatModel.builder().baseUrl(url).modelName("llama3.2")
        .timeout(Duration.ofSeconds(30)).numPredict(12).build();
    List<String> partials = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat("Tell me something", new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(String partial) {
        partials.add(partial);
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        done.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        done.completeExceptionally(error);
      }
    });
    ChatResponse response = done.get(30, TimeUnit.SECONDS);
    assertTrue(partials.size() >= 10, "partials: " + partials.size());
    assertEquals(String.join("", partials), response.aiMessage().text());
  }

  @Test
  void embeds() {
    OllamaEmbeddingModel model = OllamaEmbeddingModel.builder().baseUrl(url).modelName("nomic-embed-text")
        .timeout(Duration.ofSeconds(30)).build();
    float[] vector = model.embed("hello mesh").content().vector();
    assertTrue(vector.length > 0);
  }

  @Test
  void listsTheMeshsModels() {
    List<String> names = OllamaModels.builder().baseUrl(url).build().availableModels().content().stream()
        .map(OllamaModel::getName).toList();
    assertTrue(names.containsAll(List.of("llama3.2:latest", "nomic-embed-text:latest", "phi3:latest")), names.toString());
  }
}
