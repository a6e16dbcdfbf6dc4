package io.hivemesh.sim;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request that needs a model slot: it queues in the scheduler, does its work once granted, and
 * gives the slot back when done. If the client disconnects first, the timers stop, the ticket leaves
 * whatever queue it is in (or frees its slot) and the call counts as canceled.
 */
abstract class InferenceCall {

  private static final Logger LOG = LoggerFactory.getLogger(InferenceCall.class);

  protected final SimCore core;
  protected final HttpServerRequest req;
  protected final HttpServerResponse resp;
  protected final ErrorStyle errors;
  protected final long startNanos = System.nanoTime();
  /** The model this call runs on, once started. */
  protected SimModel model;
  private SimScheduler.Ticket ticket;
  private long timerId = -1;
  private boolean finished;
  /** The prompt as the served log names it; null for calls without one (embeddings, loads). */
  private String prompt;

  InferenceCall(SimCore core, HttpServerRequest req, ErrorStyle errors) {
    this.core = core;
    this.req = req;
    this.resp = req.response();
    this.errors = errors;
  }

  /** Names this call in the sim's served log. */
  final InferenceCall prompt(String text) {
    this.prompt = text;
    return this;
  }

  /** Asks for a slot on {@code model}; answers 503 when the pending queue is full. */
  final void start(SimModel model, Long keepAlive, SimScheduler.RunnerSpec spec) {
    this.model = model;
    SimScheduler scheduler = core.scheduler();
    ticket = scheduler.newTicket(model, keepAlive, spec, this::onGranted);
    if (!scheduler.hasRoom(ticket)) {
      finished = true;
      errors.send(req, 503, SimResponses.QUEUE_FULL);
      return;
    }
    core.stats().onAccepted(prompt);
    resp.closeHandler(v -> clientGone());
    scheduler.submit(ticket);
    if (resp.closed()) {
      // Gone before the handler was set (e.g. while its body was read): the close event is past.
      clientGone();
    }
  }

  /** Called with the slot held; {@code loadNanos} is the time spent queueing and loading. */
  protected abstract void granted(long loadNanos);

  private void onGranted(long loadNanos) {
    if (finished) {
      return;
    }
    try {
      granted(loadNanos);
    } catch (ApiException e) {
      fail(e.status(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("sim request failed", e);
      fail(500, String.valueOf(e.getMessage()));
    }
  }

  /** Ollama's way to fail: a status before the first byte, an error line after it. */
  private void fail(int status, String message) {
    complete();
    if (resp.headWritten()) {
      if (!resp.ended() && !resp.closed()) {
        resp.end(new JsonOut().obj().field("error", message).end().newline().toBuffer());
      }
    } else {
      errors.send(req, status, message);
    }
  }

  /** One timer at a time per call, so cancellation has exactly one thing to stop. */
  protected final void after(long delayMs, Runnable action) {
    if (delayMs < 1) {
      action.run();
      return;
    }
    timerId = core.vertx().setTimer(delayMs, id -> {
      timerId = -1;
      guarded(action);
    });
  }

  protected final void every(long initialDelayMs, long periodMs, Runnable action) {
    timerId = core.vertx().setPeriodic(Math.max(1, initialDelayMs), Math.max(1, periodMs), id -> guarded(action));
  }

  private void guarded(Runnable action) {
    if (finished) {
      return;
    }
    try {
      action.run();
    } catch (ApiException e) {
      fail(e.status(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("sim request failed while answering", e);
      fail(500, String.valueOf(e.getMessage()));
    }
  }

  /**
   * The answer is done: free the slot and count it. Callers write the last bytes right after, so a
   * client that has seen the end of its answer also sees it counted.
   */
  protected final void complete() {
    if (finished) {
      return;
    }
    finished = true;
    stopTimer();
    core.scheduler().release(ticket);
    core.stats().onCompleted(prompt);
  }

  private void clientGone() {
    if (finished) {
      return;
    }
    finished = true;
    stopTimer();
    core.scheduler().cancel(ticket);
    core.stats().onCanceled(prompt);
  }

  private void stopTimer() {
    if (timerId != -1) {
      core.vertx().cancelTimer(timerId);
      timerId = -1;
    }
  }
}
