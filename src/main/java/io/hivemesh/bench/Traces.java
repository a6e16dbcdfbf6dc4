package io.hivemesh.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Request bodies and arrival times of the benchmark loads. */
public final class Traces {

  private Traces() {
  }

  /** A kind of request in a mix, drawn with probability {@code weight / sum of weights}. */
  public record RequestClass(String name, double weight, String model, boolean embedding, int answerTokens,
      boolean stream) {
  }

  /** A chat request of {@code answerTokens} tokens; the sim's prompt count for it is 3 + 4 + 1. */
  public static Shot chat(String model, int answerTokens, boolean stream, String prompt) {
    JsonObject body = new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt)))
        .put("stream", stream).put("options", new JsonObject().put("num_predict", answerTokens));
    return new Shot(0, 0, "/api/chat", body.toBuffer(), model,
        new Shot.Work(false, 3 + 4 + wordCount(prompt), answerTokens, stream));
  }

  /** A generate request, the smallest an Ollama answers. */
  public static Shot generate(String model, int answerTokens, boolean stream) {
    JsonObject body = new JsonObject().put("model", model).put("prompt", "hi").put("stream", stream)
        .put("options", new JsonObject().put("num_predict", answerTokens));
    return new Shot(0, 0, "/api/generate", body.toBuffer(), model,
        new Shot.Work(false, 1 + 10, answerTokens, stream));
  }

  /** An embedding of {@code words} words; the sim counts them plus two. */
  public static Shot embed(String model, int words, int salt) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < words; i++) {
      text.append(i == 0 ? "" : " ").append("w").append(salt).append('x').append(i);
    }
    JsonObject body = new JsonObject().put("model", model).put("input", text.toString());
    return new Shot(0, 0, "/api/embed", body.toBuffer(), model, new Shot.Work(true, words + 2, 0, false));
  }

  /**
   * Poisson arrivals at {@code ratePerSecond} for {@code seconds}, each request drawn from
   * {@code mix}; the same seed gives the same trace, so every contender replays the same load.
   */
  public static List<Shot> poisson(List<RequestClass> mix, double ratePerSecond, double seconds, long seed) {
    Random rnd = new Random(seed);
    double weights = mix.stream().mapToDouble(RequestClass::weight).sum();
    List<Shot> shots = new ArrayList<>();
    double t = 0;
    int i = 0;
    while (true) {
      t += -Math.log(1 - rnd.nextDouble()) / ratePerSecond;
      if (t >= seconds) {
        return shots;
      }
      double pick = rnd.nextDouble() * weights;
      RequestClass c = mix.get(mix.size() - 1);
      for (RequestClass candidate : mix) {
        pick -= candidate.weight();
        if (pick < 0) {
          c = candidate;
          break;
        }
      }
      Shot shot = c.embedding() ? embed(c.model(), 8, i) : chat(c.model(), c.answerTokens(), c.stream(), "q" + i);
      shots.add(shot.at((long) (t * 1e9), 0));
      i++;
    }
  }

  /** Poisson arrivals of copies of one request. */
  public static List<Shot> poisson(Shot template, double ratePerSecond, double seconds, long seed) {
    Random rnd = new Random(seed);
    List<Shot> shots = new ArrayList<>();
    double t = 0;
    while (true) {
      t += -Math.log(1 - rnd.nextDouble()) / ratePerSecond;
      if (t >= seconds) {
        return shots;
      }
      shots.add(template.at((long) (t * 1e9), 0));
    }
  }

  /** The same shots aimed at {@code target}. */
  public static List<Shot> aimedAt(List<Shot> shots, int target) {
    return shots.stream().map(s -> s.at(s.atNanos(), target)).toList();
  }


  private static int wordCount(String text) {
    return text.isBlank() ? 0 : text.trim().split("[^\\p{L}\\p{Nd}]+").length;
  }
}
