package io.hivemesh.support.load;

import io.hivemesh.sim.ServedLog;
import io.hivemesh.sim.SimStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Every request a {@link LoadDriver} sent, by id, with its outcome. The checks: each request sent
 * once, each ended exactly once, sent = answered + errored with nothing lost, no broken promise
 * (hang, broken connection, silently cut answer), and, against the sims' served logs, no request
 * answered twice.
 */
public final class Ledger {

  private final Map<String, RequestRecord> byId = new ConcurrentHashMap<>();
  private final List<String> duplicateIds = Collections.synchronizedList(new ArrayList<>());

  RequestRecord sent(String id, LoadDriver.Kind kind, String model, String prompt, long now) {
    RequestRecord r = new RequestRecord(id, kind, model, prompt, now);
    if (byId.putIfAbsent(id, r) != null) {
      duplicateIds.add(id);
    }
    return r;
  }

  public Collection<RequestRecord> records() {
    return byId.values();
  }

  public int sent() {
    return byId.size();
  }

  public List<RequestRecord> with(RequestRecord.Outcome outcome) {
    return byId.values().stream().filter(r -> r.outcome() == outcome).toList();
  }

  public long answered() {
    return count(RequestRecord.Outcome.ANSWERED);
  }

  public long errored() {
    return byId.values().stream().filter(r -> r.outcome() != null && r.outcome().error).count();
  }

  /** Requests without an outcome: lost, or still in flight when the driver was not stopped. */
  public List<RequestRecord> pending() {
    return byId.values().stream().filter(r -> r.outcome() == null).toList();
  }

  public List<RequestRecord> violations() {
    return byId.values().stream().filter(r -> r.outcome() != null && r.outcome().violation).toList();
  }

  /** Requests of {@code kind} whose answer {@code site} is streaming right now. */
  public long streamingFrom(String site, LoadDriver.Kind kind) {
    return byId.values().stream().filter(r -> r.kind == kind && r.streaming() && site.equals(r.servedBy())).count();
  }

  /** Refusals the driver retried on another entry node, over all requests. */
  public long clientRetries() {
    return byId.values().stream().mapToLong(r -> r.retries().size()).sum();
  }

  /** Client retries by reason. */
  public Map<String, Long> clientRetriesByReason() {
    return byId.values().stream().flatMap(r -> r.retries().stream())
        .collect(Collectors.groupingBy(RequestRecord.ClientRetry::reason, java.util.TreeMap::new, Collectors.counting()));
  }

  public long count(RequestRecord.Outcome outcome) {
    return byId.values().stream().filter(r -> r.outcome() == outcome).count();
  }

  /** Requests whose answer some site served: answered or broken after the first byte. */
  public long servedBy(String site) {
    return byId.values().stream().filter(r -> site.equals(r.servedBy())).count();
  }

  /**
   * Fails unless every request sent ended exactly once, as an answer or an error in Ollama's
   * shape: sent = answered + errored, none lost, no hang, no broken connection, no cut answer.
   */
  public void assertComplete() {
    StringBuilder problems = new StringBuilder();
    if (!duplicateIds.isEmpty()) {
      problems.append("ids sent twice: ").append(duplicateIds).append('\n');
    }
    List<RequestRecord> lost = pending();
    if (!lost.isEmpty()) {
      problems.append(lost.size()).append(" requests without an outcome, e.g. ").append(sample(lost)).append('\n');
    }
    List<RequestRecord> broken = violations();
    if (!broken.isEmpty()) {
      problems.append(broken.size()).append(" requests ended in a broken promise, e.g. ").append(sample(broken)).append('\n');
    }
    if (sent() != answered() + errored()) {
      problems.append("sent ").append(sent()).append(" != answered ").append(answered()).append(" + errored ")
          .append(errored()).append('\n');
    }
    if (problems.length() > 0) {
      throw new AssertionError("ledger: " + summary() + "\n" + problems);
    }
  }

  /**
   * Fails if any request was answered in full by two sites, or an answered request was not
   * answered in full exactly once by the site that its client says served it. Sites in
   * {@code partial} lost their node mid-answer (killed): their sims may have finished an answer
   * the node could no longer pass on, so only their double completions with another site are
   * not counted against the mesh.
   */
  public void assertNothingServedTwice(Map<String, SimStats> sims, Set<String> partial) {
    Map<String, Map<String, ServedLog.Served>> logs = sims.entrySet().stream().collect(Collectors.toMap(
        Map.Entry::getKey, e -> e.getValue().servedLog().snapshot()));
    List<String> problems = new ArrayList<>();
    for (RequestRecord r : byId.values()) {
      int completions = 0;
      int counted = 0;
      Map<String, ServedLog.Served> where = new java.util.TreeMap<>();
      for (Map.Entry<String, Map<String, ServedLog.Served>> log : logs.entrySet()) {
        ServedLog.Served s = log.getValue().get(r.prompt);
        if (s != null) {
          where.put(log.getKey(), s);
          completions += s.completed();
          if (!partial.contains(log.getKey())) {
            counted += s.completed();
          }
        }
      }
      if (counted > 1) {
        problems.add(r.id + " answered in full " + completions + " times " + where + ": " + r);
      }
      if (r.outcome() == RequestRecord.Outcome.ANSWERED) {
        Map<String, ServedLog.Served> site = logs.get(r.servedBy());
        ServedLog.Served s = site == null ? null : site.get(r.prompt);
        if (s == null || s.completed() != 1) {
          problems.add(r.id + " was answered by " + r.servedBy() + ", whose sim has " + s + " for it: " + r);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(problems.size() + " requests served twice or not by whom they say, e.g.\n"
          + String.join("\n", problems.subList(0, Math.min(10, problems.size()))));
    }
  }

  /** Every record, one line each in the order sent, for reading after a run. */
  public void writeTo(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, byId.values().stream()
          .sorted(Comparator.comparingLong((RequestRecord r) -> r.sentAt))
          .map(r -> String.format("%+8d ms %s", (r.sentAt - firstSent()) / 1_000_000, r)).toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long firstSent() {
    return byId.values().stream().mapToLong(r -> r.sentAt).min().orElse(0);
  }

  /** One line: sent, each outcome, client retries, time to first byte. */
  public String summary() {
    Map<RequestRecord.Outcome, Long> counts = new EnumMap<>(RequestRecord.Outcome.class);
    for (RequestRecord r : byId.values()) {
      if (r.outcome() != null) {
        counts.merge(r.outcome(), 1L, Long::sum);
      }
    }
    long[] ttfb = byId.values().stream().filter(r -> r.outcome() == RequestRecord.Outcome.ANSWERED)
        .mapToLong(RequestRecord::timeToFirstByte).sorted().toArray();
    return "sent " + sent() + ", answered " + answered() + ", errored " + errored() + " " + counts
        + ", pending " + pending().size() + ", client retries " + clientRetries() + " " + clientRetriesByReason()
        + (ttfb.length == 0 ? "" : ", ttfb p50 " + ttfb[ttfb.length / 2] / 1_000_000 + " ms p99 "
        + ttfb[(int) Math.min(ttfb.length - 1, Math.ceil(ttfb.length * 0.99) - 1)] / 1_000_000 + " ms max "
        + ttfb[ttfb.length - 1] / 1_000_000 + " ms");
  }

  private static String sample(List<RequestRecord> records) {
    return records.stream().limit(5).map(RequestRecord::toString).collect(Collectors.joining("\n  ", "\n  ", ""));
  }
}
