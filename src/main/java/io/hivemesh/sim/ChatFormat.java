package io.hivemesh.sim;

/** /api/chat: {@code message} chunks from the assistant. */
final class ChatFormat implements AnswerFormat {

  static final ChatFormat INSTANCE = new ChatFormat();

  private ChatFormat() {
  }

  @Override
  public boolean nativeShape() {
    return true;
  }



  @Override
  public void token(JsonOut out, Answer a, int i) {
    out.obj()
        .field("model", a.model)
        .field("created_at", GoTime.nowUtc());
    message(out, a.tokens[i]);
    out.field("done", false).end().newline();
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

  private static void last(JsonOut out, Answer a, String content) {
    out.obj()
        .field("model", a.model)
        .field("created_at", GoTime.nowUtc());
    message(out, content);
    out.field("done", true).fieldNonEmpty("done_reason", a.doneReason);
    a.metrics(out);
    out.end();
  }

  private static void message(JsonOut out, String content) {
    out.key("message").obj().field("role", "assistant").field("content", content).end();
  }
}
