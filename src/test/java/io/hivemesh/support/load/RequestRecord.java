package io.hivemesh.support.load;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** One request of a load run, from the moment it is sent to its one outcome. */
public final class RequestRecord {

  /** How a request ended, as its client saw it. */
  public enum Outcome {
    /** Status 200 and an answer that ends with {@code done: true}. */
    ANSWERED(false, false),
    /** A status other than 200 before the first byte, with Ollama's {@code {"error": ...}} body. */
    ERROR_STATUS(true, false),
    /** Status 200, then an {@code {"error": ...}} line: the answer broke after it started. */
    ERROR_LINE(true, false),
    /** Every entry node refused the connection or was draining, through every client retry. */
    REFUSED(true, false),
    /** The connection broke without a proper end: a promise broken. */
    BROKEN(false, true),
    /** No byte for the read timeout: a hang, a promise broken. */
    HUNG(false, true),
    /** Ended properly yet neither done nor an error (a silently cut answer), or an error not in Ollama's shape. */
    MALFORMED(false, true);

    public final boolean error;
    public final boolean violation;

    Outcome(boolean error, boolean violation) {
      this.error = error;
      this.violation = violation;
    }
  }

  /** A refusal before the request was accepted, which the driver retried on another entry node. */
  public record ClientRetry(String entry, String reason) {
  }

  public final String id;
  public final LoadDriver.Kind kind;
  public final String model;
  public final String prompt;
  public final long sentAt;
  private final List<ClientRetry> retries = new ArrayList<>();
  private final AtomicReference<Outcome> outcome = new AtomicReference<>();
  private volatile String entry;
  private volatile int status;
  private volatile String servedBy;
  private volatile int chunks;
  private volatile String errorText;
  private volatile String problem;
  private volatile long firstByteAt;
  private volatile long endedAt;

  RequestRecord(String id, LoadDriver.Kind kind, String model, String prompt, long sentAt) {
    this.id = id;
    this.kind = kind;
    this.model = model;
    this.prompt = prompt;
    this.sentAt = sentAt;
  }

  synchronized void retried(String entryName, String reason) {
    retries.add(new ClientRetry(entryName, reason));
  }

  /** The head of an answer arrived: who serves it is known while it streams. */
  void head(int headStatus, String site, long at) {
    status = headStatus;
    servedBy = site;
    firstByteAt = at;
  }

  /** Whether the answer's head arrived and the request has not ended yet. */
  public boolean streaming() {
    return firstByteAt != 0 && outcome.get() == null;
  }

  /**
   * Sets the one outcome of this request from what came back; a second call is a bug in the
   * driver and throws, so nothing is ever counted twice.
   */
  void finish(String entryName, Outcome result, StreamingPost.Reply reply, long now) {
    if (!outcome.compareAndSet(null, result)) {
      throw new IllegalStateException("request " + id + " already ended as " + outcome.get() + ", now " + result);
    }
    entry = entryName;
    endedAt = now;
    if (reply != null) {
      status = reply.status();
      servedBy = reply.servedBy();
      chunks = reply.lines().size();
      firstByteAt = reply.firstByteNanos();
      problem = reply.problem();
      String last = reply.lines().isEmpty() ? null : reply.lines().get(reply.lines().size() - 1);
      JsonObject json = parse(last);
      errorText = json == null ? null : json.getString("error");
    }
  }

  /** How a complete reply ends: an answer, an error in Ollama's shape, or neither. */
  static Outcome classify(StreamingPost.Reply reply) {
    List<String> lines = reply.lines();
    JsonObject last = lines.isEmpty() ? null : parse(lines.get(lines.size() - 1));
    boolean errorLine = last != null && last.getValue("error") instanceof String;
    if (reply.status() != 200) {
      return lines.size() == 1 && errorLine ? Outcome.ERROR_STATUS : Outcome.MALFORMED;
    }
    if (errorLine) {
      return Outcome.ERROR_LINE;
    }
    return last != null && Boolean.TRUE.equals(last.getValue("done")) ? Outcome.ANSWERED : Outcome.MALFORMED;
  }

  private static JsonObject parse(String line) {
    try {
      return line == null ? null : new JsonObject(line);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  public Outcome outcome() {
    return outcome.get();
  }

  public String entry() {
    return entry;
  }

  public int status() {
    return status;
  }

  /** The site that served the answer ({@code X-Hive-Node}), when a head arrived. */
  public String servedBy() {
    return servedBy;
  }

  /** Lines of the body received. */
  public int chunks() {
    return chunks;
  }

  public String errorText() {
    return errorText;
  }

  public String problem() {
    return problem;
  }

  public synchronized List<ClientRetry> retries() {
    return List.copyOf(retries);
  }

  /** Nanoseconds from sending to the status line; -1 when none came. */
  public long timeToFirstByte() {
    return firstByteAt == 0 ? -1 : firstByteAt - sentAt;
  }

  public long totalTime() {
    return endedAt == 0 ? -1 : endedAt - sentAt;
  }

  public long endedAt() {
    return endedAt;
  }

  @Override
  public String toString() {
    return id + " " + kind + " " + model + " via " + entry + " -> " + outcome.get() + " status " + status + " served by "
        + servedBy + ", " + chunks + " lines" + (errorText == null ? "" : ", error '" + errorText + "'")
        + (problem == null ? "" : ", " + problem) + (retries.isEmpty() ? "" : ", client retries " + retries);
  }
}
