package io.hivemesh.sim;

import io.hivemesh.json.GoText;
import io.hivemesh.model.ModelName;

import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The native Ollama endpoints that read models: version, tags, ps, show, generate, chat, embed and
 * the legacy embeddings. Checks run in Ollama's order, so the same bad request gets the same error.
 */
final class NativeApi {

  static final String VERSION = "0.13.0";

  /** What /api/generate (or /v1/completions) asks for. */
  record GenerateInput(String model, String prompt, String system, String suffix, String template, boolean raw,
      int contextCount, Boolean stream, Long keepAlive, Map<String, Object> options, Object think, long topLogprobs) {
  }

  /** What /api/chat (or /v1/chat/completions) asks for; each message is {role, content}. */
  record ChatInput(String model, List<String[]> messages, Boolean stream, Long keepAlive, Map<String, Object> options,
      Object think, boolean tools, long topLogprobs) {
  }

  /** What /api/embed (or /v1/embeddings) asks for. */
  record EmbedInput(String model, List<String> inputs, Boolean truncate, long dimensions, Long keepAlive,
      Map<String, Object> options) {
  }

  /** Renders embedding vectors into the route's shape. */
  interface EmbedShape {
    JsonOut render(EmbedInput in, List<float[]> vectors, int tokens, long loadNanos, long totalNanos);
  }

  private final SimCore core;

  NativeApi(SimCore core) {
    this.core = core;
  }

  void root(HttpServerRequest req) {
    SimResponses.send(req, 200, SimResponses.TEXT_UTF8, "Ollama is running");
  }

  void version(HttpServerRequest req) {
    SimResponses.json(req, 200, new JsonOut().obj().field("version", VERSION).end());
  }

  void tags(HttpServerRequest req) {
    SimResponses.json(req, 200, SimResponses.tags(core.catalog().list()));
  }

  void ps(HttpServerRequest req) {
    SimResponses.json(req, 200, SimResponses.ps(core.scheduler().loadedRunners()));
  }

  void show(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "ShowRequest");
    String model = f.string("model");
    if (model.isEmpty()) {
      model = f.string("name");
    }
    f.bool("verbose");
    f.object("options");
    if (model.isEmpty()) {
      throw new ApiException(400, "model is required");
    }
    SimModel m = core.catalog().find(requireValid(model, 400, "model is required"));
    if (m == null) {
      throw new ApiException(404, "model '" + ModelName.parse(model).display() + "' not found");
    }
    SimResponses.json(req, 200, showBody(m));
  }

  void generate(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "GenerateRequest");
    GenerateInput in = new GenerateInput(f.string("model"), f.string("prompt"), f.string("system"),
        f.string("suffix"), f.string("template"), f.bool("raw"), f.intListSize("context"), f.optBool("stream"),
        f.keepAlive(), f.object("options"), f.think(), f.integer("top_logprobs"));
    f.stringListSize("images", "[]api.ImageData", "api.ImageData");
    f.optBool("truncate");
    f.optBool("shift");
    f.bool("logprobs");
    runGenerate(req, in, GenerateFormat.INSTANCE, ErrorStyle.NATIVE, null, false);
  }

  void runGenerate(HttpServerRequest req, GenerateInput in, AnswerFormat format, ErrorStyle errors, String id,
      boolean includeUsage) {
    if (in.topLogprobs() < 0 || in.topLogprobs() > 20) {
      throw new ApiException(400, "top_logprobs must be between 0 and 20");
    }
    String notFound = "model '" + in.model() + "' not found";
    if (ModelName.isBlank(in.model())) {
      throw new ApiException(404, notFound);
    }
    SimModel m = core.catalog().find(requireValid(in.model(), 404, notFound));
    if (m == null) {
      throw new ApiException(404, notFound);
    }
    boolean stream = in.stream() == null || in.stream();
    if (in.prompt().isEmpty() && in.keepAlive() != null && in.keepAlive() == 0) {
      core.scheduler().expire(m);
      countInstant();
      Generation.answerNow(req, format, Answer.bare(in.model(), "unload", id), stream);
      return;
    }
    if (in.raw() && (!in.template().isEmpty() || !in.system().isEmpty() || in.contextCount() > 0)) {
      throw new ApiException(400, "raw mode does not support template, system, or context");
    }
    checkThinking(m, in.model(), in.think());
    if (!m.can("completion")) {
      throw new ApiException(400, GoText.quote(in.model()) + " does not support generate");
    }
    if (!in.suffix().isEmpty() && !m.can("insert")) {
      throw new ApiException(400, m.name().full() + " does not support insert");
    }
    RunOptions opts = RunOptions.from(in.options(), m);
    if (in.prompt().isEmpty()) {
      new Generation(core, req, errors, format, Answer.bare(in.model(), "load", id), stream, true)
          .start(m, in.keepAlive(), opts.spec());
      return;
    }
    String promptText = in.raw() ? in.prompt() : in.system() + "\n" + in.prompt() + "\n" + in.suffix();
    int promptTokens = TextGenerator.countTokens(promptText) + (in.raw() ? 0 : 10) + in.contextCount();
    String[] tokens = core.text().answer(m.key(), promptText + "#" + in.contextCount(), opts.seed(), opts.numPredict());
    int[] context = in.raw() || !format.nativeShape() ? null : core.text().context(promptText, promptTokens, tokens);
    Answer answer = new Answer(in.model(), tokens, opts.numPredict() != null ? "length" : "stop", promptTokens,
        context, id, includeUsage);
    new Generation(core, req, errors, format, answer, stream, false).prompt(in.prompt())
        .start(m, in.keepAlive(), opts.spec());
  }

  void chat(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "ChatRequest");
    String model = f.string("model");
    List<String[]> messages = new ArrayList<>();
    for (GoFields msg : f.structs("messages", "[]api.Message", "api.Message")) {
      messages.add(new String[] {msg.string("role"), msg.string("content")});
      msg.string("thinking");
      msg.stringListSize("images", "[]api.ImageData", "api.ImageData");
      msg.list("tool_calls", "[]api.ToolCall");
      msg.string("tool_name");
    }
    Boolean stream = f.optBool("stream");
    Long keepAlive = f.keepAlive();
    List<Object> tools = f.list("tools", "api.Tools");
    ChatInput in = new ChatInput(model, messages, stream, keepAlive, f.object("options"), f.think(),
        tools != null && !tools.isEmpty(), f.integer("top_logprobs"));
    f.optBool("truncate");
    f.optBool("shift");
    f.bool("logprobs");
    runChat(req, in, ChatFormat.INSTANCE, ErrorStyle.NATIVE, null, false);
  }

  void runChat(HttpServerRequest req, ChatInput in, AnswerFormat format, ErrorStyle errors, String id,
      boolean includeUsage) {
    if (in.topLogprobs() < 0 || in.topLogprobs() > 20) {
      throw new ApiException(400, "top_logprobs must be between 0 and 20");
    }
    if (ModelName.isBlank(in.model())) {
      throw new ApiException(400, "model is required");
    }
    SimModel m = core.catalog().find(requireValid(in.model(), 400, "model is required"));
    if (m == null) {
      throw new ApiException(404, "model '" + in.model() + "' not found");
    }
    boolean stream = in.stream() == null || in.stream();
    if (in.messages().isEmpty() && in.keepAlive() != null && in.keepAlive() == 0) {
      core.scheduler().expire(m);
      countInstant();
      Generation.answerNow(req, format, Answer.bare(in.model(), "unload", id), stream);
      return;
    }
    checkThinking(m, in.model(), in.think());
    if (!m.can("completion")) {
      throw new ApiException(400, GoText.quote(in.model()) + " does not support chat");
    }
    if (in.tools() && !m.can("tools")) {
      throw new ApiException(400, m.name().full() + " does not support tools");
    }
    RunOptions opts = RunOptions.from(in.options(), m);
    if (in.messages().isEmpty()) {
      new Generation(core, req, errors, format, Answer.bare(in.model(), "load", id), stream, true)
          .start(m, in.keepAlive(), opts.spec());
      return;
    }
    StringBuilder promptText = new StringBuilder();
    int promptTokens = 3;
    for (String[] msg : in.messages()) {
      promptText.append(msg[0]).append('\u0001').append(msg[1]).append('\u0002');
      promptTokens += 4 + TextGenerator.countTokens(msg[1]);
    }
    String[] tokens = core.text().answer(m.key(), promptText.toString(), opts.seed(), opts.numPredict());
    Answer answer = new Answer(in.model(), tokens, opts.numPredict() != null ? "length" : "stop", promptTokens,
        null, id, includeUsage);
    new Generation(core, req, errors, format, answer, stream, false)
        .prompt(in.messages().get(in.messages().size() - 1)[1]).start(m, in.keepAlive(), opts.spec());
  }

  void embed(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "EmbedRequest");
    String model = f.string("model");
    Object input = f.raw("input");
    Long keepAlive = f.keepAlive();
    Boolean truncate = f.optBool("truncate");
    long dimensions = f.integer("dimensions");
    Map<String, Object> options = f.object("options");
    if (ModelName.isBlank(model)) {
      throw new ApiException(404, "model '" + model + "' not found");
    }
    requireValid(model, 404, "model '" + model + "' not found");
    List<String> inputs = new ArrayList<>();
    if (input instanceof String s) {
      if (!s.isEmpty()) {
        inputs.add(s);
      }
    } else if (input instanceof List<?> l) {
      for (Object o : l) {
        if (!(o instanceof String s)) {
          throw new ApiException(400, "invalid input type");
        }
        inputs.add(s);
      }
    } else if (input != null) {
      throw new ApiException(400, "invalid input type");
    }
    runEmbed(req, new EmbedInput(model, inputs, truncate, dimensions, keepAlive, options), ErrorStyle.NATIVE,
        SimResponses.JSON_UTF8, NativeApi::nativeEmbedShape);
  }

  void runEmbed(HttpServerRequest req, EmbedInput in, ErrorStyle errors, String contentType, EmbedShape shape) {
    String notFound = "model '" + in.model() + "' not found";
    if (ModelName.isBlank(in.model())) {
      throw new ApiException(404, notFound);
    }
    SimModel m = core.catalog().find(requireValid(in.model(), 404, notFound));
    if (m == null) {
      throw new ApiException(404, "model " + GoText.quote(in.model()) + " not found, try pulling it first");
    }
    RunOptions opts = RunOptions.from(in.options(), m);
    int ctx = opts.spec().contextLength();
    int tokens = 0;
    int[] counts = new int[in.inputs().size()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = TextGenerator.countTokens(in.inputs().get(i)) + 2;
      tokens += Math.min(counts[i], ctx);
    }
    int total = tokens;
    new DelayedReply(core, req, errors, workNanos(m, total, 10), contentType, (load, elapsed) -> {
      List<float[]> vectors = new ArrayList<>(counts.length);
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] > ctx && in.truncate() != null && !in.truncate()) {
          throw new ApiException(400, "the input length exceeds the context length");
        }
        float[] v = TextGenerator.embedding(m.key(), in.inputs().get(i), m.embeddingLength());
        if (in.dimensions() > 0 && in.dimensions() < v.length) {
          v = TextGenerator.normalize(Arrays.copyOf(v, (int) in.dimensions()));
        }
        vectors.add(v);
      }
      return shape.render(in, vectors, total, load, elapsed);
    }).start(m, in.keepAlive(), opts.spec());
  }

  private static JsonOut nativeEmbedShape(EmbedInput in, List<float[]> vectors, int tokens, long load, long total) {
    JsonOut out = new JsonOut(new StringBuilder(64 + vectors.size() * 12_000));
    out.obj().field("model", in.model()).key("embeddings").arr();
    for (float[] v : vectors) {
      out.arr();
      for (float x : v) {
        out.f32(x);
      }
      out.endArr();
    }
    out.endArr();
    if (!vectors.isEmpty()) {
      out.fieldNonZero("total_duration", total).fieldNonZero("load_duration", load).fieldNonZero("prompt_eval_count", tokens);
    }
    return out.end();
  }

  void embeddings(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "EmbeddingRequest");
    String model = f.string("model");
    String prompt = f.string("prompt");
    Long keepAlive = f.keepAlive();
    Map<String, Object> options = f.object("options");
    if (ModelName.isBlank(model)) {
      throw new ApiException(400, "model is required");
    }
    SimModel m = core.catalog().find(requireValid(model, 400, "model is required"));
    if (m == null) {
      throw new ApiException(404, "model " + GoText.quote(model) + " not found, try pulling it first");
    }
    RunOptions opts = RunOptions.from(options, m);
    int tokens = prompt.isEmpty() ? 0 : TextGenerator.countTokens(prompt) + 2;
    new DelayedReply(core, req, ErrorStyle.NATIVE, workNanos(m, tokens, 10), SimResponses.JSON_UTF8, (load, elapsed) -> {
      JsonOut out = new JsonOut(new StringBuilder(24_000));
      out.obj().key("embedding").arr();
      if (!prompt.isEmpty()) {
        // The legacy endpoint widens float32 to float64, and Go prints the widened value.
        for (float x : TextGenerator.embedding(m.key(), prompt, m.embeddingLength())) {
          out.f64(x);
        }
      }
      return out.endArr().end();
    }).start(m, keepAlive, opts.spec());
  }

  /** Time a runner of {@code m} spends on {@code tokens} at {@code factor} times its generation rate. */
  private long workNanos(SimModel m, int tokens, int factor) {
    double tps = core.options().tokensPerSecond(m.key());
    return tps <= 0 ? 0 : (long) (tokens * 1e9 / (factor * tps));
  }

  /** Unload answers need no slot but are still inference requests in the stats. */
  private void countInstant() {
    core.stats().onAccepted();
    core.stats().onCompleted();
  }

  private static void checkThinking(SimModel m, String model, Object think) {
    boolean wantsThinking = think instanceof String || Boolean.TRUE.equals(think);
    if (wantsThinking && !m.can("thinking")) {
      throw new ApiException(400, GoText.quote(model) + " does not support thinking");
    }
  }

  /** Parses a non-blank name; a malformed one is Ollama's "invalid model name" (400). */
  private static ModelName requireValid(String raw, int blankStatus, String blankMessage) {
    if (ModelName.isBlank(raw)) {
      throw new ApiException(blankStatus, blankMessage);
    }
    ModelName n = ModelName.parse(raw);
    if (!n.isValid()) {
      throw new ApiException(400, "invalid model name");
    }
    return n;
  }

  private JsonOut showBody(SimModel m) {
    String weights = m.layers().get(0).digest().replace(':', '-');
    boolean embedding = m.isEmbedding();
    StringBuilder modelfile = new StringBuilder()
        .append("# Modelfile generated by \"ollama show\"\n")
        .append("# To build a new Modelfile based on this, replace FROM with:\n")
        .append("# FROM ").append(m.display()).append("\n\n")
        .append("FROM /root/.ollama/models/blobs/").append(weights).append('\n');
    String template = "{{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}";
    String parameters = "stop                           \"<|eot_id|>\"";
    if (!embedding) {
      modelfile.append("TEMPLATE \"\"\"").append(template).append("\"\"\"\n")
          .append("PARAMETER stop <|eot_id|>\n");
    }
    JsonOut out = new JsonOut();
    out.obj().field("modelfile", modelfile.toString());
    if (!embedding) {
      out.field("parameters", parameters).field("template", template);
    }
    SimResponses.details(out, m, false);
    // Go writes map keys sorted.
    Map<String, Object> info = new TreeMap<>();
    String arch = m.family();
    info.put("general.architecture", arch);
    info.put("general.basename", m.name().model());
    info.put("general.file_type", embedding ? 1L : 15L);
    info.put("general.parameter_count", parameterCount(m.parameterSize()));
    info.put("general.quantization_version", 2L);
    info.put(arch + ".context_length", (long) m.trainedContext());
    info.put(arch + ".embedding_length", (long) m.embeddingLength());
    info.put("tokenizer.ggml.model", embedding ? "bert" : "gpt2");
    out.key("model_info").obj();
    for (Map.Entry<String, Object> e : info.entrySet()) {
      out.key(e.getKey());
      if (e.getValue() instanceof Long l) {
        out.num(l);
      } else {
        out.str((String) e.getValue());
      }
    }
    out.end();
    SimResponses.capabilities(out, m.capabilities());
    return out.field("modified_at", GoTime.local(m.modifiedAt())).end();
  }

  private static long parameterCount(String size) {
    double n = Double.parseDouble(size.substring(0, size.length() - 1));
    return (long) (size.endsWith("M") ? n * 1e6 : n * 1e9);
  }
}
