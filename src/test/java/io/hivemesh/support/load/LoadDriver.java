package io.hivemesh.support.load;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady load at a fixed concurrency over a list of entry nodes: each worker sends one request,
 * reads its answer to the end, pauses for the think time, and sends the next. Requests mix short
 * and long streamed {@code /api/generate} calls and non-streamed ones; each carries a unique id in
 * its prompt, and every one ends in the {@link Ledger} with exactly one outcome.
 *
 * <p>Like a load balancer, the driver retries a request on the next entry node when it was
 * refused before being accepted (connection refused, 503 from a node draining or starting, or a
 * connection closed before any byte of an answer); each such retry is recorded on the request.
 * Nothing else is retried; {@link Ledger#assertNothingServedTwice} catches a retry of a request
 * that was in fact served.
 */
public final class LoadDriver implements AutoCloseable {

  /** What a request asks for. */
  public enum Kind { STREAM_SHORT, STREAM_LONG, WHOLE }

  /** A node clients may talk to. */
  public record Entry(String name, int port) {
  }

  /**
   * How the load looks. {@code mix} weighs the kinds (short, long, whole); {@code rounds} is how
   * many times a request goes round the entry list while it is refused.
   */
  public record Options(String runId, List<String> models, int concurrency, Duration thinkTime, int shortTokens,
                        int longTokens, int[] mix, Duration readTimeout, int rounds) {
    public Options {
      Objects.requireNonNull(runId);
      models = List.copyOf(models);
      if (mix.length != Kind.values().length) {
        throw new IllegalArgumentException("mix needs one weight per kind");
      }
    }

    public static Options defaults(String runId, List<String> models) {
      return new Options(runId, models, 8, Duration.ofMillis(50), 8, 150, new int[] {6, 1, 3}, Duration.ofSeconds(30), 3);
    }

    public Options withConcurrency(int n) {
      return new Options(runId, models, n, thinkTime, shortTokens, longTokens, mix, readTimeout, rounds);
    }

    public Options withMix(int shortStreams, int longStreams, int whole) {
      return new Options(runId, models, concurrency, thinkTime, shortTokens, longTokens,
          new int[] {shortStreams, longStreams, whole}, readTimeout, rounds);
    }

    public Options withThinkTime(Duration d) {
      return new Options(runId, models, concurrency, d, shortTokens, longTokens, mix, readTimeout, rounds);
    }

    public Options withLongTokens(int n) {
      return new Options(runId, models, concurrency, thinkTime, shortTokens, n, mix, readTimeout, rounds);
    }
  }

  private static final int CONNECT_TIMEOUT_MS = 2_000;
  /** Pause before another round over the entry list, when every entry refused. */
  private static final long ROUND_PAUSE_MS = 200;

  private final Options options;
  private final Ledger ledger = new Ledger();
  private final CopyOnWriteArrayList<Entry> entries;
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong entryCursor = new AtomicLong();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean running = true;

  private LoadDriver(Options options, List<Entry> entries) {
    this.options = options;
    this.entries = new CopyOnWriteArrayList<>(entries);
  }

  /** Starts the workers; the load runs until {@link #stop}. */
  public static LoadDriver start(Options options, List<Entry> entries) {
    LoadDriver driver = new LoadDriver(options, entries);
    for (int i = 0; i < options.concurrency(); i++) {
      Thread t = new Thread(driver::work, "load-" + options.runId() + "-" + i);
      t.setDaemon(true);
      driver.workers.add(t);
      t.start();
    }
    return driver;
  }

  /** Replaces the entry nodes new requests go to (a load balancer's pool changing). */
  public void entries(List<Entry> next) {
    if (next.isEmpty()) {
      throw new IllegalArgumentException("at least one entry node");
    }
    entries.clear();
    entries.addAll(next);
  }

  public Ledger ledger() {
    return ledger;
  }

  /** Stops sending; waits for every request in flight to end. The ledger is then complete. */
  public Ledger stop() {
    running = false;
    long deadline = System.nanoTime() + options.readTimeout().toNanos() * (options.rounds() + 1) + 10_000_000_000L;
    for (Thread t : workers) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    return ledger;
  }

  @Override
  public void close() {
    stop();
  }

  private void work() {
    while (running) {
      long n = sequence.incrementAndGet();
      Kind kind = kindOf(n);
      String model = options.models().get((int) (n % options.models().size()));
      String id = options.runId() + "-" + n;
      // The id leads the prompt: the sims' served logs are keyed by it.
      String prompt = id + " " + kind.name().toLowerCase() + " under load";
      RequestRecord record = ledger.sent(id, kind, model, prompt, System.nanoTime());
      send(record);
      pause(options.thinkTime().toMillis());
    }
  }

  private Kind kindOf(long n) {
    int[] mix = options.mix();
    int total = 0;
    for (int w : mix) {
      total += w;
    }
    int slot = (int) (n % total);
    for (int k = 0; k < mix.length; k++) {
      if (slot < mix[k]) {
        return Kind.values()[k];
      }
      slot -= mix[k];
    }
    throw new IllegalStateException("unreachable with positive weights");
  }

  private void send(RequestRecord record) {
    String body = body(record);
    long start = entryCursor.getAndIncrement();
    StreamingPost.Reply last = null;
    Entry entry = null;
    for (int round = 0; round < options.rounds(); round++) {
      List<Entry> pool = List.copyOf(entries);
      for (int i = 0; i < pool.size(); i++) {
        entry = pool.get((int) ((start + i) % pool.size()));
        last = StreamingPost.post(entry.port(), "/api/generate", body, CONNECT_TIMEOUT_MS,
            (int) options.readTimeout().toMillis(), record::head);
        String refusal = refusal(last);
        if (refusal == null) {
          record.finish(entry.name(), outcome(last), last, System.nanoTime());
          return;
        }
        record.retried(entry.name(), refusal);
      }
      pause(ROUND_PAUSE_MS);
    }
    record.finish(entry == null ? null : entry.name(), RequestRecord.Outcome.REFUSED, last, System.nanoTime());
  }

  private static RequestRecord.Outcome outcome(StreamingPost.Reply reply) {
    return switch (reply.end()) {
      case COMPLETE -> RequestRecord.classify(reply);
      case TIMED_OUT -> RequestRecord.Outcome.HUNG;
      case BROKEN, REFUSED -> RequestRecord.Outcome.BROKEN;
    };
  }

  /** Why the request was refused before any node accepted it, or null if it was not. */
  private static String refusal(StreamingPost.Reply reply) {
    if (reply.end() == StreamingPost.End.REFUSED) {
      return "connection refused";
    }
    if (reply.end() == StreamingPost.End.BROKEN && reply.status() == 0 && reply.lines().isEmpty()) {
      // A node closing its port closes connections it accepted but never read (HAProxy's
      // "empty-response" retry). Were the request served anyway, the sims' logs would show it twice.
      return "closed before any response byte";
    }
    if (reply.end() == StreamingPost.End.COMPLETE && reply.status() == 503 && reply.lines().size() == 1) {
      // A node that is leaving or not yet in the mesh refuses before accepting; a full one (busy) does not count.
      for (String state : new String[] {"draining", "starting"}) {
        if (reply.lines().get(0).contains("is " + state + ";")) {
          return "503 " + state;
        }
      }
    }
    return null;
  }

  private String body(RequestRecord record) {
    int tokens = record.kind == Kind.STREAM_LONG ? options.longTokens() : options.shortTokens();
    return new JsonObject().put("model", record.model).put("prompt", record.prompt)
        .put("stream", record.kind != Kind.WHOLE)
        .put("options", new JsonObject().put("num_predict", tokens)).encode();
  }

  private static void pause(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
