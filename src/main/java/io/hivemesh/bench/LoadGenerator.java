package io.hivemesh.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Sends a load to HTTP targets from one event loop and records what each request saw.
 *
 * <p>{@link #open}: requests leave at their due times whatever the answers do (Poisson arrivals come
 * from {@link Traces}); a request due while {@code maxInFlight} are open is dropped and counted, so
 * a slow server cannot slow the load down. {@link #saturate}: a fixed number of requests always
 * open, each answer sending the next, to find the most a contender serves per second.
 */
public final class LoadGenerator {

  private static final long TICK_MS = 1;

  private final Context context;
  private final List<HttpClientAgent> clients = new ArrayList<>();
  private final List<String> hosts = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final long timeoutMs;

  /**
   * @param targets host:port of every target a load may address
   * @param connections connections kept per target (at least the most requests open at once)
   */
  public LoadGenerator(Vertx vertx, List<String> targets, int connections, long timeoutMs) {
    this.context = vertx.getOrCreateContext();
    this.timeoutMs = timeoutMs;
    for (String t : targets) {
      int colon = t.lastIndexOf(':');
      hosts.add(t.substring(0, colon));
      ports.add(Integer.parseInt(t.substring(colon + 1)));
      clients.add(vertx.createHttpClient(
          new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(2000),
          new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1)));
    }
  }

  /** Sends {@code shots} (sorted by due time) open-loop; completes when every answer ended. */
  public Future<Void> open(List<Shot> shots, int maxInFlight, Recorder rec) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> new OpenRun(shots, maxInFlight, rec, done).start());
    return done.future();
  }

  /**
   * Keeps {@code concurrency} requests open for {@code durationMs}; {@code next} makes the i-th
   * request. Completes when the last answer ended.
   */
  public Future<Void> saturate(IntFunction<Shot> next, int concurrency, long durationMs, Recorder rec) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> new ClosedRun(next, concurrency, durationMs, rec, done).start());
    return done.future();
  }

  public Future<Void> close() {
    return Future.all(clients.stream().map(HttpClientAgent::close).toList()).mapEmpty();
  }

  private final class OpenRun {
    private final List<Shot> shots;
    private final int maxInFlight;
    private final Recorder rec;
    private final Promise<Void> done;
    private int next;
    private int inFlight;
    private long start;

    OpenRun(List<Shot> shots, int maxInFlight, Recorder rec, Promise<Void> done) {
      this.shots = shots;
      this.maxInFlight = maxInFlight;
      this.rec = rec;
      this.done = done;
    }

    void start() {
      start = System.nanoTime();
      tick();
    }

    private void tick() {
      long now = System.nanoTime() - start;
      while (next < shots.size() && shots.get(next).atNanos() <= now) {
        Shot shot = shots.get(next++);
        rec.scheduleLag.recordValue(Math.max(0, (now - shot.atNanos()) / 1000));
        if (inFlight >= maxInFlight) {
          rec.drop();
          continue;
        }
        inFlight++;
        send(shot, rec).onComplete(ar -> {
          inFlight--;
          finishIfDone();
        });
      }
      if (next < shots.size()) {
        long waitMs = Math.max(TICK_MS, (shots.get(next).atNanos() - (System.nanoTime() - start)) / 1_000_000L);
        context.owner().setTimer(waitMs, id -> tick());
      } else {
        finishIfDone();
      }
    }

    private void finishIfDone() {
      if (next == shots.size() && inFlight == 0 && !done.future().isComplete()) {
        rec.elapsedNanos += System.nanoTime() - start;
        done.complete();
      }
    }
  }

  private final class ClosedRun {
    private final IntFunction<Shot> next;
    private final int concurrency;
    private final long durationMs;
    private final Recorder rec;
    private final Promise<Void> done;
    private long start;
    private long deadline;
    private int issued;
    private int open;

    ClosedRun(IntFunction<Shot> next, int concurrency, long durationMs, Recorder rec, Promise<Void> done) {
      this.next = next;
      this.concurrency = concurrency;
      this.durationMs = durationMs;
      this.rec = rec;
      this.done = done;
    }

    void start() {
      start = System.nanoTime();
      deadline = start + durationMs * 1_000_000L;
      for (int i = 0; i < concurrency; i++) {
        issue();
      }
    }

    private void issue() {
      if (System.nanoTime() >= deadline) {
        if (open == 0 && !done.future().isComplete()) {
          // Throughput counts the window requests were sent in, not the wait for the last answers.
          rec.elapsedNanos += durationMs * 1_000_000L;
          done.complete();
        }
        return;
      }
      open++;
      send(next.apply(issued++), rec).onComplete(ar -> {
        open--;
        issue();
      });
    }
  }

  /** One request; the future ends (never fails) when its outcome is recorded. */
  private Future<Void> send(Shot shot, Recorder rec) {
    long t0 = System.nanoTime();
    Promise<Void> finished = Promise.promise();
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
        .setHost(hosts.get(shot.target())).setPort(ports.get(shot.target())).setURI(shot.path())
        .putHeader("content-type", "application/json").setIdleTimeout(timeoutMs);
    clients.get(shot.target()).request(options)
        .compose(req -> req.send(shot.body()))
        .onFailure(err -> {
          rec.failure(String.valueOf(err.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timeout")
              ? "timeout" : "error: " + err.getClass().getSimpleName());
          finished.tryComplete();
        })
        .onSuccess(resp -> {
          int status = resp.statusCode();
          long[] firstChunk = {-1};
          int[] chunks = {0};
          Buffer[] last = {null};
          resp.handler(buf -> {
            if (firstChunk[0] < 0) {
              firstChunk[0] = System.nanoTime() - t0;
            }
            last[0] = buf;
            for (int i = 0, n = buf.length(); i < n; i++) {
              if (buf.getByte(i) == '\n') {
                chunks[0]++;
              }
            }
          });
          resp.exceptionHandler(err -> {
            if (finished.future().isComplete()) {
              return;
            }
            rec.failure(String.valueOf(err.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timeout")
                ? "timeout" : "broken stream");
            finished.tryComplete();
          });
          resp.endHandler(v -> {
            if (finished.future().isComplete()) {
              return;
            }
            long totalNanos = System.nanoTime() - t0;
            if (status != 200) {
              rec.failure("HTTP " + status);
            } else if (last[0] != null && endsWithError(last[0])) {
              rec.failure("error line in stream");
            } else {
              rec.success(firstChunk[0] < 0 ? totalNanos : firstChunk[0], totalNanos, chunks[0]);
            }
            finished.tryComplete();
          });
        });
    return finished.future();
  }

  /** Ollama ends a stream that broke after its first byte with an {@code {"error": ...}} line. */
  private static boolean endsWithError(Buffer last) {
    String tail = last.length() > 200 ? last.getString(last.length() - 200, last.length()) : last.toString();
    int lineStart = tail.lastIndexOf('\n', tail.length() - 2) + 1;
    return tail.startsWith("{\"error\"", lineStart);
  }
}
