package io.hivemesh.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Finding {@code model} and the answer's cap in a request body, once, as every request does before
 * routing: a small chat, and a long conversation with {@code model} first or last (the parser must
 * skip the rest).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BodyModelBench {

  @Param({"small", "long-model-first", "long-model-last"})
  public String body;

  private Buffer buffer;

  @Setup
  public void setUp() {
    JsonArray messages = new JsonArray();
    int turns = body.equals("small") ? 1 : 400;
    for (int i = 0; i < turns; i++) {
      messages.add(new JsonObject().put("role", i % 2 == 0 ? "user" : "assistant")
          .put("content", "turn " + i + " of a conversation about routing work to the right site, with some words"));
    }
    JsonObject o = new JsonObject();
    if (!body.equals("long-model-last")) {
      o.put("model", "llama3.2");
    }
    o.put("messages", messages).put("stream", true).put("options", new JsonObject().put("num_predict", 20));
    if (body.equals("long-model-last")) {
      o.put("model", "llama3.2");
    }
    buffer = o.toBuffer();
  }

  @Benchmark
  public BodyModel extract() {
    return BodyModel.of(buffer);
  }
}
