package io.hivemesh.sim;

/** /api/generate: {@code response} chunks, and {@code context} on the last one. */
final class GenerateFormat implements AnswerFormat {

  static final GenerateFormat INSTANCE = new GenerateFormat();

  private GenerateFormat() {
  }

  @Override
  public boolean nativeShape() {
    return true;
  }



  @Override
  public void token(JsonOut out, Answer a, int i) {
    out.obj()
        .field("model", a.model)
        .field("created_at", GoTime.nowUtc())
        .field("response", a.tokens[i])
        .field("done", false)
        .end().newline();
  }

  @Override
  public void done(JsonOut out, Answer a) {
    last(out, a, "");
    out.newline();
  }

  @Override
  public void whole(JsonOut out, Answer a) {
    last(out, a, a.text());
  }

  private static void last(JsonOut out, Answer a, String response) {
    out.obj()
        .field("model", a.model)
        .field("created_at", GoTime.nowUtc())
        .field("response", response)
        .field("done", true)
        .fieldNonEmpty("done_reason", a.doneReason);
    if (a.context != null && a.context.length > 0) {
      out.key("context").arr();
      for (int id : a.context) {
        out.num(id);
      }
      out.endArr();
    }
    a.metrics(out);
    out.end();
  }
}
