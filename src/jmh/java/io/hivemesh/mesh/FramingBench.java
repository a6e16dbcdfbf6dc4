package io.hivemesh.mesh;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The bus stream protocol's per-frame work: a data frame (one per chunk of every remote answer)
 * and a head frame with its HTTP headers (one per answer), each written to the bytes the bus
 * carries and read back as the other side does. The bus adds its own envelope (address, reply
 * address, codec), the same for every message, outside this measure.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FramingBench {

  private MultiMap httpHead;
  private Buffer chunk;
  private int seq;

  @Setup
  public void setUp() {
    httpHead = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/x-ndjson")
        .add("date", "Sun, 29 Nov 2026 10:00:00 GMT").add("transfer-encoding", "chunked");
    chunk = Buffer.buffer("{\"model\":\"llama3.2\",\"created_at\":\"2026-11-29T10:00:00.000000Z\","
        + "\"response\":\" the\",\"done\":false}\n");
  }

  @Benchmark
  public BusFrame dataFrameRoundTrip() {
    Buffer wire = new BusFrame(BusFrame.Kind.DATA, 42, "hive.v1.site.site-a.0").seq(++seq).payload(chunk).encode();
    return BusFrame.decode(wire);
  }

  @Benchmark
  public BusFrame headFrameRoundTrip() {
    BusFrame head = new BusFrame(BusFrame.Kind.HEAD, 42, "hive.v1.site.site-a.0").value(200).seq(0)
        .flag(BusFrame.CHUNK).payload(chunk);
    head.site = "site-a";
    head.headers = httpHead;
    return BusFrame.decode(head.encode());
  }
}
