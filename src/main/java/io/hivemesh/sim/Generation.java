package io.hivemesh.sim;

import io.vertx.core.http.HttpServerRequest;

/**
 * A generate or chat answer paced like a real model: prompt processing at 20x the generation rate,
 * then {@code tokensPerSecond} tokens, each chunk written (and flushed) on its own. Nothing, not
 * even the response head, is sent before the first token, which is what proxies must cope with.
 * With {@code tokensPerSecond <= 0} the whole answer goes out at once without timers.
 */
final class Generation extends InferenceCall {

  private final AnswerFormat format;
  private final Answer answer;
  private final boolean stream;
  private final boolean loadOnly;
  private long promptEndNanos;
  private int emitted;

  Generation(SimCore core, HttpServerRequest req, ErrorStyle errors, AnswerFormat format, Answer answer,
      boolean stream, boolean loadOnly) {
    super(core, req, errors);
    this.format = format;
    this.answer = answer;
    this.stream = stream;
    this.loadOnly = loadOnly;
  }

  /** Answers without a slot: the unload reply to an empty prompt with keep_alive 0. */
  static void answerNow(HttpServerRequest req, AnswerFormat format, Answer answer, boolean stream) {
    if (format.nativeShape() || !stream) {
      JsonOut out = new JsonOut();
      format.whole(out, answer);
      SimResponses.send(req, 200, format.wholeContentType(), out.toBuffer());
    } else {
      JsonOut out = new JsonOut();
      format.done(out, answer);
      SimResponses.head(req, 200, format.streamContentType()).setChunked(true).end(out.toBuffer());
    }
  }

  @Override
  protected void granted(long loadNanos) {
    if (loadOnly) {
      complete();
      answerNow(req, format, answer, stream);
      return;
    }
    answer.loadNanos = loadNanos;
    double tps = core.options().tokensPerSecond(model.key());
    if (tps <= 0) {
      answerAtOnce();
      return;
    }
    long promptNanos = (long) (answer.promptTokens * 1e9 / (20 * tps));
    answer.promptEvalNanos = Math.max(1, promptNanos);
    promptEndNanos = System.nanoTime() + promptNanos;
    long tokenNanos = (long) (1e9 / tps);
    if (!stream) {
      after((promptNanos + answer.tokens.length * tokenNanos) / 1_000_000L, this::finishWhole);
      return;
    }
    long firstMs = (promptNanos + tokenNanos) / 1_000_000L;
    long periodMs = Math.max(1, tokenNanos / 1_000_000L);
    every(firstMs, periodMs, this::tick);
  }

  /** Instant mode: every chunk in one write, nominal timings. */
  private void answerAtOnce() {
    answer.promptEvalNanos = 1_000L * answer.promptTokens + 1;
    answer.evalNanos = 1_000L * answer.tokens.length + 1;
    answer.totalNanos = System.nanoTime() - startNanos + answer.promptEvalNanos + answer.evalNanos;
    JsonOut out = new JsonOut(new StringBuilder(200 + 130 * answer.tokens.length));
    if (stream) {
      for (int i = 0; i < answer.tokens.length; i++) {
        format.token(out, answer, i);
      }
      format.done(out, answer);
      complete();
      SimResponses.head(req, 200, format.streamContentType()).setChunked(true).end(out.toBuffer());
    } else {
      format.whole(out, answer);
      complete();
      SimResponses.send(req, 200, format.wholeContentType(), out.toBuffer());
    }
  }

  /** Emits every token due by now; timers may fire late but never make the answer faster. */
  private void tick() {
    double tps = core.options().tokensPerSecond(model.key());
    long elapsed = System.nanoTime() - promptEndNanos;
    int due = (int) Math.min(answer.tokens.length, Math.max(emitted + 1, (long) (elapsed * tps / 1e9)));
    if (emitted == 0) {
      SimResponses.head(req, 200, format.streamContentType()).setChunked(true);
    }
    while (emitted < due) {
      JsonOut out = new JsonOut(new StringBuilder(200));
      format.token(out, answer, emitted++);
      resp.write(out.toBuffer());
    }
    if (emitted >= answer.tokens.length) {
      fillTimings();
      JsonOut out = new JsonOut(new StringBuilder(300));
      format.done(out, answer);
      complete();
      resp.end(out.toBuffer());
    }
  }

  private void finishWhole() {
    fillTimings();
    JsonOut out = new JsonOut(new StringBuilder(300 + 12 * answer.tokens.length));
    format.whole(out, answer);
    complete();
    SimResponses.send(req, 200, format.wholeContentType(), out.toBuffer());
  }

  private void fillTimings() {
    long now = System.nanoTime();
    answer.evalNanos = Math.max(1, now - promptEndNanos);
    answer.totalNanos = now - startNanos;
  }
}
