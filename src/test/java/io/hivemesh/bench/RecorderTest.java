package io.hivemesh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RecorderTest {

  @Test
  void failuresAreReportedByKind() {
    Recorder r = new Recorder();
    assertEquals("0", r.failedWithKinds());
    r.failure("HTTP 404");
    r.failure("timeout");
    r.failure("HTTP 404");
    r.drop();
    r.success(1_000_000, 2_000_000, 1);
    assertEquals(4, r.failed());
    assertEquals(1, r.ok());
    assertEquals("4 (HTTP 404: 2, timeout: 1, not sent (too many open): 1)", r.failedWithKinds());
  }
}
