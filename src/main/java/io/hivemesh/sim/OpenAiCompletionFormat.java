package io.hivemesh.sim;

/**
 * /v1/completions: one {@code text_completion} event per native chunk, the last with the finish
 * reason, then an optional usage event and {@code data: [DONE]}. With usage requested Ollama puts a
 * zeroed usage on every chunk.
 */
final class OpenAiCompletionFormat implements AnswerFormat {

  static final OpenAiCompletionFormat INSTANCE = new OpenAiCompletionFormat();

  private OpenAiCompletionFormat() {
  }

  @Override
  public boolean nativeShape() {
    return false;
  }



  @Override
  public void token(JsonOut out, Answer a, int i) {
    chunk(out, a, a.tokens[i], null);
  }

  @Override
  public void done(JsonOut out, Answer a) {
    String reason = a.doneReason == null || a.doneReason.isEmpty() ? null : a.doneReason;
    chunk(out, a, "", reason);
    if (a.includeUsage) {
      out.text("data: ");
      out.obj()
          .field("id", a.id)
          .field("object", "text_completion")
          .field("created", GoTime.unixNow())
          .key("choices").arr().endArr()
          .field("model", a.model)
          .field("system_fingerprint", "fp_ollama");
      a.usage(out);
      out.end().text("\n\n");
    }
    out.text("data: [DONE]\n\n");
  }

  @Override
  public void whole(JsonOut out, Answer a) {
    out.obj()
        .field("id", a.id)
        .field("object", "text_completion")
        .field("created", a.createdUnix())
        .field("model", a.model)
        .field("system_fingerprint", "fp_ollama")
        .key("choices").arr().obj()
        .field("text", a.text())
        .field("index", 0);
    if (a.doneReason == null || a.doneReason.isEmpty()) {
      out.key("finish_reason").nul();
    } else {
      out.field("finish_reason", a.doneReason);
    }
    out.end().endArr();
    a.usage(out);
    out.end().newline();
  }

  private static void chunk(JsonOut out, Answer a, String text, String finishReason) {
    out.text("data: ");
    out.obj()
        .field("id", a.id)
        .field("object", "text_completion")
        .field("created", GoTime.unixNow())
        .key("choices").arr().obj()
        .field("text", text)
        .field("index", 0);
    if (finishReason == null) {
      out.key("finish_reason").nul();
    } else {
      out.field("finish_reason", finishReason);
    }
    out.end().endArr()
        .field("model", a.model)
        .field("system_fingerprint", "fp_ollama");
    if (a.includeUsage) {
      out.key("usage").obj().field("prompt_tokens", 0).field("completion_tokens", 0).field("total_tokens", 0).end();
    }
    out.end().text("\n\n");
  }
}
