package io.hivemesh.mesh;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
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
 * The bus stream protocol's per-frame work: the headers of a data frame (one per chunk of every
 * remote answer), and the HTTP head carried in and out of a head frame (one per answer).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FramingBench {

  private MultiMap httpHead;
  private long sid;

  @Setup
  public void setUp() {
    httpHead = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/x-ndjson")
        .add("date", "Sun, 29 Nov 2026 10:00:00 GMT").add("transfer-encoding", "chunked");
  }

  @Benchmark
  public DeliveryOptions dataFrame() {
    return BusProtocol.frame(BusProtocol.DATA, ++sid, "site-a");
  }

  @Benchmark
  public MultiMap headFrameRoundTrip() {
    DeliveryOptions frame = BusProtocol.frame(BusProtocol.HEAD, ++sid, "site-a");
    BusProtocol.putHeaders(frame.getHeaders(), httpHead);
    return BusProtocol.httpHeaders(frame.getHeaders());
  }
}
