package io.hivemesh.sim;

/**
 * /v1/chat/completions: {@code chat.completion.chunk} events (the first delta carries the role),
 * a finish chunk with an empty delta, an optional usage chunk, then {@code data: [DONE]}.
 */
final class OpenAiChatFormat implements AnswerFormat {

  static final OpenAiChatFormat INSTANCE = new OpenAiChatFormat();

  private OpenAiChatFormat() {
  }

  @Override
  public boolean nativeShape() {
    return false;
  }



  @Override
  public void token(JsonOut out, Answer a, int i) {
    chunk(out, a, i == 0, a.tokens[i]);
  }

  @Override
  public void done(JsonOut out, Answer a) {
    if (a.tokens.length == 0) {
      // Nothing streamed yet: the role chunk still opens the stream, with empty content.
      chunk(out, a, true, "");
    }
    String reason = a.doneReason == null || a.doneReason.isEmpty() ? "stop" : a.doneReason;
    out.text("data: ");
    begin(out, a).key("choices").arr().obj()
        .field("index", 0)
        .key("delta").obj().end()
        .field("finish_reason", reason)
        .end().endArr().end();
    out.text("\n\n");
    if (a.includeUsage) {
      out.text("data: ");
      begin(out, a).key("choices").arr().endArr();
      a.usage(out);
      out.end().text("\n\n");
    }
    out.text("data: [DONE]\n\n");
  }

  @Override
  public void whole(JsonOut out, Answer a) {
    out.obj()
        .field("id", a.id)
        .field("object", "chat.completion")
        .field("created", a.createdUnix())
        .field("model", a.model)
        .field("system_fingerprint", "fp_ollama")
        .key("choices").arr().obj()
        .field("index", 0)
        .key("message").obj().field("role", "assistant").field("content", a.text()).end();
    if (a.doneReason == null || a.doneReason.isEmpty()) {
      out.key("finish_reason").nul();
    } else {
      out.field("finish_reason", a.doneReason);
    }
    out.end().endArr();
    a.usage(out);
    out.end().newline();
  }

  private static void chunk(JsonOut out, Answer a, boolean withRole, String content) {
    out.text("data: ");
    begin(out, a).key("choices").arr().obj()
        .field("index", 0)
        .key("delta").obj();
    if (withRole) {
      out.field("role", "assistant");
    }
    out.field("content", content).end()
        .key("finish_reason").nul()
        .end().endArr().end();
    out.text("\n\n");
  }

  private static JsonOut begin(JsonOut out, Answer a) {
    return out.obj()
        .field("id", a.id)
        .field("object", "chat.completion.chunk")
        .field("created", a.createdUnix())
        .field("model", a.model)
        .field("system_fingerprint", "fp_ollama");
  }
}
