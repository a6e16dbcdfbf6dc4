package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import io.hivemesh.model.ModelName;

import io.vertx.core.http.HttpServerRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The OpenAI-compatible layer. Like Ollama's middleware it translates the request, runs the native
 * handler and rewrites its answer: errors become {@code {"error":{...}}}, streams become SSE, and
 * {@code stream} defaults to false.
 */
final class OpenAiApi {

  private final SimCore core;
  private final NativeApi nativeApi;

  OpenAiApi(SimCore core, NativeApi nativeApi) {
    this.core = core;
    this.nativeApi = nativeApi;
  }

  void chatCompletions(HttpServerRequest req, byte[] body) {
    GoFields f = bind(body, "ChatCompletionRequest");
    String model = f.string("model");
    List<GoFields> raw = f.structs("messages", "[]openai.Message", "openai.Message");
    for (GoFields msg : raw) {
      msg.string("role");
      msg.string("name");
      msg.string("tool_call_id");
      msg.list("tool_calls", "[]openai.ToolCall");
    }
    boolean stream = f.bool("stream");
    boolean includeUsage = includeUsage(f);
    Map<String, Object> options = options(f);
    boolean tools = hasTools(f);
    f.optBool("logprobs");
    f.integer("top_logprobs");
    if (raw.isEmpty()) {
      throw middleware(400, "[] is too short - 'messages'");
    }
    List<String[]> messages = new ArrayList<>();
    for (GoFields msg : raw) {
      String role = msg.string("role");
      Object content = msg.raw("content");
      if (content instanceof String s) {
        messages.add(new String[] {role, s});
      } else if (content instanceof List<?> parts) {
        for (Object part : parts) {
          messages.add(new String[] {role, partText(part)});
        }
      } else if (msg.list("tool_calls", "[]openai.ToolCall") == null) {
        throw middleware(400, "invalid message content type: " + goTypeName(content));
      } else {
        messages.add(new String[] {role, ""});
      }
    }
    String id = "chatcmpl-" + ThreadLocalRandom.current().nextInt(999);
    NativeApi.ChatInput in = new NativeApi.ChatInput(model, messages, stream, null, options, null, tools, 0);
    runNative(req, () -> nativeApi.runChat(req, in, OpenAiChatFormat.INSTANCE, ErrorStyle.OPENAI, id, includeUsage));
  }

  void completions(HttpServerRequest req, byte[] body) {
    GoFields f = bind(body, "CompletionRequest");
    String model = f.string("model");
    String prompt = f.string("prompt");
    boolean stream = f.bool("stream");
    boolean includeUsage = includeUsage(f);
    String suffix = f.string("suffix");
    Object stop = f.raw("stop");
    if (stop instanceof List<?> l) {
      for (Object s : l) {
        if (!(s instanceof String)) {
          throw middleware(400, "invalid type for 'stop' field: " + goTypeName(s));
        }
      }
    }
    Map<String, Object> options = options(f);
    String id = "cmpl-" + ThreadLocalRandom.current().nextInt(999);
    NativeApi.GenerateInput in = new NativeApi.GenerateInput(model, prompt, "", suffix, "", false, 0, stream, null,
        options, null, 0);
    runNative(req, () -> nativeApi.runGenerate(req, in, OpenAiCompletionFormat.INSTANCE, ErrorStyle.OPENAI, id,
        includeUsage));
  }

  void embeddings(HttpServerRequest req, byte[] body) {
    GoFields f = bind(body, "EmbedRequest");
    Object input = f.raw("input");
    String model = f.string("model");
    long dimensions = f.integer("dimensions");
    String encoding = f.string("encoding_format");
    if (!encoding.isEmpty() && !encoding.equalsIgnoreCase("float") && !encoding.equalsIgnoreCase("base64")) {
      throw middleware(400, "Invalid value for 'encoding_format' = " + encoding
          + ". Supported values: ['float', 'base64'].");
    }
    if ("".equals(input)) {
      input = List.of("");
    }
    if (input == null || (input instanceof List<?> l && l.isEmpty())) {
      throw middleware(400, "invalid input");
    }
    Object nativeInput = input;
    boolean base64 = encoding.equalsIgnoreCase("base64");
    runNative(req, () -> {
      List<String> inputs = new ArrayList<>();
      if (nativeInput instanceof String s) {
        inputs.add(s);
      } else if (nativeInput instanceof List<?> l) {
        for (Object o : l) {
          if (!(o instanceof String s)) {
            throw new ApiException(400, "invalid input type");
          }
          inputs.add(s);
        }
      } else {
        throw new ApiException(400, "invalid input type");
      }
      NativeApi.EmbedInput in = new NativeApi.EmbedInput(model, inputs, null, dimensions, null, null);
      nativeApi.runEmbed(req, in, ErrorStyle.OPENAI, SimResponses.JSON,
          (e, vectors, tokens, load, total) -> embeddingList(e, vectors, tokens, base64));
    });
  }

  void models(HttpServerRequest req) {
    JsonOut out = new JsonOut();
    List<SimModel> models = core.catalog().list();
    out.obj().field("object", "list").key("data");
    if (models.isEmpty()) {
      // Ollama leaves the slice nil, which Go encodes as null.
      out.nul();
    } else {
      out.arr();
      for (SimModel m : models) {
        modelObject(out, m.display(), m);
      }
      out.endArr();
    }
    SimResponses.send(req, 200, SimResponses.JSON, out.end().newline().toBuffer());
  }

  void model(HttpServerRequest req, String id) {
    runNative(req, () -> {
      ModelName n = ModelName.parse(id);
      if (!n.isValid()) {
        throw new ApiException(400, "invalid model name");
      }
      SimModel m = core.catalog().find(n);
      if (m == null) {
        throw new ApiException(404, "model '" + n.display() + "' not found");
      }
      JsonOut out = new JsonOut();
      modelObject(out, id, m);
      SimResponses.send(req, 200, SimResponses.JSON, out.newline().toBuffer());
    });
  }

  private static void modelObject(JsonOut out, String id, SimModel m) {
    out.obj()
        .field("id", id)
        .field("object", "model")
        .field("created", m.modifiedAt().getEpochSecond())
        .field("owned_by", ModelName.parse(id).namespace())
        .end();
  }

  private static JsonOut embeddingList(NativeApi.EmbedInput in, List<float[]> vectors, int tokens, boolean base64) {
    JsonOut out = new JsonOut(new StringBuilder(64 + vectors.size() * 12_000));
    out.obj().field("object", "list").key("data").arr();
    for (int i = 0; i < vectors.size(); i++) {
      out.obj().field("object", "embedding").key("embedding");
      float[] v = vectors.get(i);
      if (base64) {
        ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
          bytes.putFloat(x);
        }
        out.str(Base64.getEncoder().encodeToString(bytes.array()));
      } else {
        out.arr();
        for (float x : v) {
          out.f32(x);
        }
        out.endArr();
      }
      out.field("index", i).end();
    }
    out.endArr().field("model", in.model())
        .key("usage").obj().field("prompt_tokens", tokens).field("total_tokens", tokens).end();
    return out.end().newline();
  }

  /** Runs a native handler, turning its refusals into OpenAI error objects. */
  private static void runNative(HttpServerRequest req, Runnable handler) {
    try {
      handler.run();
    } catch (ApiException e) {
      ErrorStyle.OPENAI.send(req, e.status(), e.getMessage());
    }
  }

  /**
   * gin's ShouldBindJSON as the middleware sees it: an empty body is Go's io.EOF, "EOF". The route
   * writes the middleware's own refusals with {@link ErrorStyle#OPENAI_MIDDLEWARE}.
   */
  private static GoFields bind(byte[] body, String struct) {
    if (GoJson.isBlank(body)) {
      throw middleware(400, "EOF");
    }
    try {
      return GoFields.of(GoJson.parse(body), "openai", struct);
    } catch (GoScanner.SyntaxError e) {
      throw middleware(400, e.getMessage());
    }
  }

  private static ApiException middleware(int status, String message) {
    return new ApiException(status, message);
  }

  private static boolean includeUsage(GoFields f) {
    Map<String, Object> so = f.object("stream_options", "openai.StreamOptions");
    return so != null && Boolean.TRUE.equals(so.get("include_usage"));
  }

  private static boolean hasTools(GoFields f) {
    List<Object> tools = f.list("tools", "[]api.Tool");
    return tools != null && !tools.isEmpty();
  }

  /** The native options the middleware derives; only the ones the sim acts on matter. */
  private static Map<String, Object> options(GoFields f) {
    Map<String, Object> options = new LinkedHashMap<>();
    if (f.has("max_tokens")) {
      options.put("num_predict", new GoJson.Num(Long.toString(f.integer("max_tokens"))));
    }
    if (f.has("seed")) {
      options.put("seed", new GoJson.Num(Long.toString(f.integer("seed"))));
    }
    if (f.has("temperature")) {
      f.decimal("temperature");
    }
    return options;
  }

  private static String partText(Object part) {
    if (!(part instanceof Map<?, ?> p)) {
      throw middleware(400, "invalid message format");
    }
    Object type = p.get("type");
    if ("text".equals(type)) {
      if (!(p.get("text") instanceof String text)) {
        throw middleware(400, "invalid message format");
      }
      return text;
    }
    if ("image_url".equals(type) || "input_audio".equals(type)) {
      return "";
    }
    throw middleware(400, "invalid message format");
  }

  /** Go's %T of a decoded JSON value. */
  private static String goTypeName(Object v) {
    if (v == null) {
      return "<nil>";
    }
    return switch (GoFields.kind(v)) {
      case "number" -> "float64";
      case "object" -> "map[string]interface {}";
      case "array" -> "[]interface {}";
      default -> GoFields.kind(v).toLowerCase(Locale.ROOT);
    };
  }
}
