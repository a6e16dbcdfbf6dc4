package io.hivemesh.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A client written by others (LangChain4j's Ollama module) talks to the sim as to an Ollama. */
@ExtendWith(VertxExtension.class)
class SimClientCompatTest {

  @Test
  void langChain4jChatsStreamsEmbedsAndLists(Vertx vertx) throws Exception {
    OllamaSim sim = SimHttp.start(vertx, SimHttp.fast().withTokensPerSecond(200));
    String url = sim.url();

    ChatResponse chat = OllamaChatModel.builder().baseUrl(url).modelName("llama3.2").numPredict(6)
        .timeout(Duration.ofSeconds(10)).build().chat(UserMessage.from("hi"));
    assertFalse(chat.aiMessage().text().isBlank());
    assertEquals(6, chat.tokenUsage().outputTokenCount());
    assertEquals(FinishReason.LENGTH, chat.finishReason());

    List<String> partials = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    OllamaStreamingChatModel.builder().baseUrl(url).modelName("llama3.2").numPredict(12)
        .timeout(Duration.ofSeconds(10)).build().chat("Tell me something", new StreamingChatResponseHandler() {
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
    ChatResponse streamed = done.get(10, TimeUnit.SECONDS);
    assertEquals(12, partials.size());
    assertEquals(String.join("", partials), streamed.aiMessage().text());

    float[] vector = OllamaEmbeddingModel.builder().baseUrl(url).modelName("nomic-embed-text")
        .timeout(Duration.ofSeconds(10)).build().embed("hello").content().vector();
    assertEquals(768, vector.length);

    List<String> names = OllamaModels.builder().baseUrl(url).build().availableModels().content().stream()
        .map(OllamaModel::getName).toList();
    assertEquals(List.of("llama3.2:latest", "nomic-embed-text:latest"), names);
    assertEquals(3, sim.stats().requests(), sim.stats().toString());
    assertEquals(0, sim.stats().canceled(), sim.stats().toString());
  }
}
